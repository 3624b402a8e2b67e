/**
 * Taking over an account with an email address nobody verified.
 *
 * The attack: with the default `claimMapping` the username is the `email`
 * claim, and the gate took it even with `email_verified: false`. Many IdPs
 * let users edit their own email address (Authentik does, and since 2025.10
 * sends `email_verified: false` for everyone). Mallory sets hers to alice's
 * and signs in: the gate calls her alice@example.org. She lists and creates
 * alice's keys, pushes where a `users: ["alice@example.org"]` policy allows,
 * and her login overwrites alice's stored groups with her own (`[]`), so
 * every key alice has loses admin.
 *
 * Now two defences. An `email` username needs `email_verified: true` unless
 * the provider sets `allowUnverifiedEmail: true`; a refused login gets a
 * page that says how to proceed, an audit event, and changes nothing. And
 * each username is bound to the IdP subject (`iss` + `sub` of the ID token)
 * that first signed in with it: a later login that maps to the same
 * username from another subject is refused, whatever the IdP sends, until
 * the operator releases the username (`zot-gate user release --user U`).
 * Real gate, real registry, real OIDC provider, real sign-ins over HTTP, the
 * built CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdp, type Idp } from '../harness/idp.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { cli } from '../support/cli.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { send } from '../support/http.js';
import { formToken, signIn, type SignedIn } from '../support/sign-in.js';

const ALICE = 'alice@example.org';
const accessControl = {
  repositories: { '**': { anonymousPolicy: ['read'], policies: [{ users: [ALICE], actions: ['read', 'create'] }] } },
  adminPolicy: { groups: ['admins'], actions: ['read', 'create', 'update', 'delete'] },
};
/** Mallory at the IdP: her own account (sub `mallory`), with alice's address typed in as hers. */
const MALLORY = { preferred_username: 'mallory', email: ALICE, email_verified: false, groups: [] };
const UNVERIFIED = 'Test IdP says the email address alice@example.org is not verified.';
const BOUND = 'The username alice@example.org belongs to another account at Test IdP';

let idp: Idp;
let registry: Registry;
const gates: GateUnderTest[] = [];

const gateWith = async (provider: Record<string, unknown> = {}) => {
  const gate = await startGate({
    upstream: registry.url,
    accessControl,
    extra: { auth: { failDelay: 0, openid: { providers: { oidc: { name: 'Test IdP', issuer: idp.issuer, credentialsFile: idp.credentialsFile, ...provider } } } } },
  });
  gates.push(gate);
  return gate;
};

beforeAll(async () => {
  idp = await startIdp();
  await idp.setUser('mallory', MALLORY);
  registry = await startRegistry();
}, 60_000);

afterAll(async () => {
  for (const gate of gates) await gate.stop();
  await registry?.stop();
  await idp?.close();
});

/** Alice signs in and makes a key on her account page; the key and what it carries. */
async function aliceWithKey(gate: GateUnderTest): Promise<string> {
  const page = await signIn(gate.url, 'alice');
  expect(page.status).toBe(200);
  const body = new URLSearchParams({ csrf: formToken(page.body), label: 'laptop', expires: '30d', scopes: '' }).toString();
  const created = await send(gate.url, {
    method: 'POST',
    path: '/-/account/keys',
    headers: { cookie: `session=${page.cookies.get('session')!}`, origin: gate.url, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  expect(created.status).toBe(201);
  const key = /zak_[0-9a-f]{32}/.exec(created.body)?.[0];
  expect(key).toBeDefined();
  return key!;
}

const groupsOf = (gate: GateUnderTest, key: string) => {
  const found = gate.store.lookup(key, new Date());
  return found.ok ? found.groups : found.reason;
};

function auditOf(gate: GateUnderTest, reason: string): Array<Record<string, unknown>> {
  return gate.logs.filter((line) => line.audit === true && line.event === 'login' && line.reason === reason);
}

function expectRefusedPage(page: SignedIn): void {
  expect(page.status).toBe(403);
  expect(page.cookies.has('session')).toBe(false);
  expect(page.cookies.has('user')).toBe(false);
  // not alice's account page: no key list, no form
  expect(page.body).not.toContain('laptop');
  expect(page.body).not.toContain('name="csrf"');
}

describe('the default claimMapping (username = email)', () => {
  let gate: GateUnderTest;
  let key: string;

  beforeAll(async () => {
    gate = await gateWith();
    key = await aliceWithKey(gate);
  }, 30_000);

  it("alice's key carries her groups from her login", () => {
    expect(groupsOf(gate, key)).toEqual(['admins']);
  });

  it("mallory, with alice's address unverified, is refused with a page that says how to proceed", async () => {
    const page = await signIn(gate.url, 'mallory');
    expectRefusedPage(page);
    expect(page.body).toContain(UNVERIFIED);
    expect(page.body).toContain('return {&quot;email&quot;: request.user.email, &quot;email_verified&quot;: True}');
    expect(page.body).toContain('&quot;claimMapping&quot;: {&quot;username&quot;: &quot;preferred_username&quot;}');
    expect(page.body).toContain('&quot;allowUnverifiedEmail&quot;: true');
  }, 30_000);

  it('the refusal is audited with the address and the subject that tried', () => {
    expect(auditOf(gate, 'email-unverified')).toEqual([
      expect.objectContaining({
        event: 'login',
        identity: null,
        authMethod: 'session',
        decision: 'deny',
        status: 403,
        detail: { provider: 'oidc', username: ALICE, issuer: idp.issuer, subject: 'mallory' },
      }),
    ]);
  });

  it("alice's stored groups are unchanged: her key still carries admin", () => {
    expect(groupsOf(gate, key)).toEqual(['admins']);
  });

  it('alice herself (email_verified true) still signs in', async () => {
    expect((await signIn(gate.url, 'alice')).status).toBe(200);
    expect(groupsOf(gate, key)).toEqual(['admins']);
  }, 30_000);
});

describe('allowUnverifiedEmail: true — the binding to the IdP subject still protects alice', () => {
  let gate: GateUnderTest;
  let key: string;

  beforeAll(async () => {
    gate = await gateWith({ allowUnverifiedEmail: true });
    key = await aliceWithKey(gate);
  }, 30_000);

  it('mallory maps to alice@example.org but is another subject: refused, with a page naming the release command', async () => {
    const page = await signIn(gate.url, 'mallory');
    expectRefusedPage(page);
    expect(page.body).toContain(BOUND);
    expect(page.body).toContain('zot-gate user release --user alice@example.org');
    expect(groupsOf(gate, key)).toEqual(['admins']);
  }, 30_000);

  it('the refusal is audited with the subject that tried and the one the username is bound to', () => {
    expect(auditOf(gate, 'username-bound-to-another-subject')).toEqual([
      expect.objectContaining({
        identity: null,
        decision: 'deny',
        status: 403,
        detail: { provider: 'oidc', username: ALICE, issuer: idp.issuer, subject: 'mallory', boundTo: { issuer: idp.issuer, subject: 'alice' } },
      }),
    ]);
  });

  it('user list shows the binding', async () => {
    const listed = await cli(['user', 'list', '--config', gate.configPath]);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')[0]).toBe('NAME\tGROUPS\tISSUER\tSUBJECT\tBOUND');
    const row = listed.stdout.split('\n').find((line) => line.startsWith(`${ALICE}\t`));
    expect(row?.split('\t').slice(0, 4)).toEqual([ALICE, 'admins', idp.issuer, 'alice']);
  });

  it('after `zot-gate user release`, the next sign-in binds the username again (here: mallory, as the operator chose)', async () => {
    const released = await cli(['user', 'release', '--user', ALICE, '--config', gate.configPath]);
    expect(released.stderr).toBe('');
    expect(released.code).toBe(0);
    expect(released.stdout).toBe(`released ${ALICE} from subject alice of ${idp.issuer}\n`);
    const again = await cli(['user', 'release', '--user', ALICE, '--config', gate.configPath]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`zot-gate: ${ALICE} is not bound to any IdP account\n`);

    const page = await signIn(gate.url, 'mallory');
    expect(page.status).toBe(200);
    expect(page.cookies.has('session')).toBe(true);
    // alice is now the one refused, until the operator releases the name again
    const alice = await signIn(gate.url, 'alice');
    expect(alice.status).toBe(403);
    expect(alice.body).toContain(BOUND);
  }, 60_000);
});

describe('Authentik 2025.10 and later: email_verified false for every user', () => {
  let authentik: Idp;

  beforeAll(async () => {
    authentik = await startIdp({ everyEmailUnverified: true });
  }, 60_000);

  afterAll(async () => {
    await authentik?.close();
  });

  const gateOn = async (provider: Record<string, unknown>) => {
    const gate = await startGate({
      upstream: registry.url,
      accessControl,
      extra: { auth: { failDelay: 0, openid: { providers: { oidc: { name: 'Authentik', issuer: authentik.issuer, credentialsFile: authentik.credentialsFile, ...provider } } } } },
    });
    gates.push(gate);
    return gate;
  };

  it('with the email username, even alice is refused, and the page says what to do', async () => {
    const gate = await gateOn({});
    const page = await signIn(gate.url, 'alice');
    expect(page.status).toBe(403);
    expect(page.body).toContain('Authentik says the email address alice@example.org is not verified.');
    expect(page.body).toContain('docs/authentik.md');
  }, 30_000);

  it('claimMapping.username preferred_username signs alice in', async () => {
    const gate = await gateOn({ claimMapping: { username: 'preferred_username' } });
    const page = await signIn(gate.url, 'alice');
    expect(page.status).toBe(200);
    expect(page.body).toContain('alice');
  }, 30_000);

  it('allowUnverifiedEmail: true signs alice in by her address', async () => {
    const gate = await gateOn({ allowUnverifiedEmail: true });
    const page = await signIn(gate.url, 'alice');
    expect(page.status).toBe(200);
    expect(page.body).toContain(ALICE);
  }, 30_000);
});
