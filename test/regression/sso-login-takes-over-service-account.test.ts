/**
 * Regression: an SSO login takes over a service account made with the CLI.
 *
 * The operator makes CI's key as the README says:
 *
 *     zot-gate apikey create --user ci --groups artifact-workloads
 *
 * which wrote a user record for `ci` bound to no IdP account. Usernames were
 * bound at their first SSO login, so the first person whose username claim
 * maps to `ci` (a `preferred_username` chosen at self-enrolment, say) got
 * the name: the login bound `ci` to her IdP account and replaced ci's
 * groups with hers, so CI's keys lost theirs; her session saw, revoked and
 * minted ci's keys.
 *
 * Now a name whose groups the operator sets with `apikey create --groups`
 * (the service-account path) is bound to the local subject
 * (`zot-gate:local`, the name itself): an SSO login that maps to it is
 * refused like one from another IdP account (a page, an audit event,
 * nothing changed) until the operator runs `zot-gate user release`, and
 * `user list` shows it as a service account. A name already bound to an
 * IdP account keeps that binding; a record from before this rule (groups,
 * no binding) is bound at its first sign-in, as before.
 * Real gate, real registry, the real OIDC provider, the built CLI.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { basic, send } from '../support/http.js';
import { signIn } from '../support/sign-in.js';
import { useSsoGate } from '../support/sso-gate.js';

const accessControl = {
  repositories: { '**': { anonymousPolicy: ['read'], policies: [{ groups: ['artifact-workloads'], actions: ['read', 'create'] }] } },
  adminPolicy: { groups: ['admins'], actions: ['read', 'create', 'update', 'delete'] },
};
/** Mallory's own account at the IdP (sub `mallory`), whose username claim she chose: `ci`. */
const MALLORY = { preferred_username: 'ci', email: 'mallory@example.org', email_verified: true, groups: ['outsiders'] };

const sso = useSsoGate({ accessControl });
let ciKey: string;

beforeAll(async () => {
  await sso.idp.setUser('mallory', MALLORY);
  const created = await cli(['apikey', 'create', '--user', 'ci', '--groups', 'artifact-workloads', '--label', 'pipeline', '--config', sso.gate.configPath]);
  expect([created.code, created.stderr]).toEqual([0, '']);
  ciKey = created.stdout.trim();
}, 60_000);

const groupsOf = (key: string) => {
  const found = sso.gate.store.lookup(key, new Date());
  return found.ok ? found.groups : found.reason;
};
const push = (key: string) => send(sso.gate.url, { method: 'POST', path: '/v2/team/app/blobs/uploads/', headers: { authorization: basic('ci', key) } });

async function userRow(name: string): Promise<string[] | undefined> {
  const listed = await cli(['user', 'list', '--config', sso.gate.configPath]);
  expect(listed.code).toBe(0);
  return listed.stdout.split('\n').find((line) => line.startsWith(`${name}\t`))?.split('\t');
}

describe('a service account made with apikey create --groups', () => {
  it('its key pushes with the groups the operator gave it', async () => {
    expect(groupsOf(ciKey)).toEqual(['artifact-workloads']);
    expect((await push(ciKey)).status).toBe(202);
  });

  it('user list shows it as a service account, bound locally', async () => {
    const row = await userRow('ci');
    expect(row?.slice(0, 4)).toEqual(['ci', 'artifact-workloads', 'local (service account)', 'ci']);
    const json = await cli(['user', 'list', '--json', '--config', sso.gate.configPath]);
    const users = (JSON.parse(json.stdout) as { users: Array<Record<string, unknown>> }).users;
    expect(users.find((user) => user.name === 'ci')).toEqual({
      name: 'ci',
      groups: ['artifact-workloads'],
      updatedAt: expect.any(String),
      boundTo: { issuer: 'zot-gate:local', subject: 'ci', boundAt: expect.any(String) },
      serviceAccount: true,
    });
  });

  it('an IdP account whose username claim is "ci" signs in: refused with a page naming the release command', async () => {
    const page = await signIn(sso.gate.url, 'mallory');
    expect(page.status).toBe(403);
    expect(page.cookies.has('session')).toBe(false);
    expect(page.cookies.has('user')).toBe(false);
    expect(page.body).toContain('The username ci is a service account of this registry');
    expect(page.body).toContain('zot-gate user release --user ci');
    expect(page.body).not.toContain('name="csrf"');
  }, 30_000);

  it('the refusal is audited with the account that tried and the local binding', () => {
    const refused = sso.gate.logs.filter((line) => line.audit === true && line.event === 'login' && line.reason === 'username-bound-to-another-subject');
    expect(refused).toEqual([
      expect.objectContaining({
        identity: null,
        decision: 'deny',
        status: 403,
        detail: { provider: 'oidc', username: 'ci', issuer: sso.idp.issuer, subject: 'mallory', boundTo: { issuer: 'zot-gate:local', subject: 'ci' } },
      }),
    ]);
  });

  it("ci's groups are unchanged and its key still pushes", async () => {
    expect(groupsOf(ciKey)).toEqual(['artifact-workloads']);
    expect((await push(ciKey)).status).toBe(202);
    expect((await userRow('ci'))?.slice(0, 4)).toEqual(['ci', 'artifact-workloads', 'local (service account)', 'ci']);
  });

  it('after `zot-gate user release --user ci`, the SSO login binds the name (the operator chose so)', async () => {
    const released = await cli(['user', 'release', '--user', 'ci', '--config', sso.gate.configPath]);
    expect([released.code, released.stderr]).toEqual([0, '']);
    expect(released.stdout).toBe('released ci, a service account: the next sign-in with the name binds it\n');
    const after = await cli(['user', 'list', '--json', '--config', sso.gate.configPath]);
    expect((JSON.parse(after.stdout) as { users: Array<{ name: string; boundTo: unknown }> }).users.find((u) => u.name === 'ci')?.boundTo).toBeNull();

    const page = await signIn(sso.gate.url, 'mallory');
    expect(page.status).toBe(200);
    expect(page.cookies.has('session')).toBe(true);
    expect((await userRow('ci'))?.slice(0, 4)).toEqual(['ci', 'outsiders', sso.idp.issuer, 'mallory']);
    expect(groupsOf(ciKey)).toEqual(['outsiders']);
  }, 30_000);
});

describe('names bound already, and records from before this rule', () => {
  it('apikey create --groups for a name bound to an IdP account keeps that binding: its person still signs in', async () => {
    expect((await signIn(sso.gate.url, 'alice')).status).toBe(200);
    const created = await cli(['apikey', 'create', '--user', 'alice', '--groups', 'admins,artifact-workloads', '--config', sso.gate.configPath]);
    expect(created.code).toBe(0);
    expect((await userRow('alice'))?.slice(0, 4)).toEqual(['alice', 'admins,artifact-workloads', sso.idp.issuer, 'alice']);
    expect((await signIn(sso.gate.url, 'alice')).status).toBe(200);
  }, 30_000);

  it('apikey create without --groups binds nothing: the name is bound at its first sign-in, as before', async () => {
    const created = await cli(['apikey', 'create', '--user', 'carol', '--config', sso.gate.configPath]);
    expect(created.code).toBe(0);
    expect(await userRow('carol')).toBeUndefined();
    expect((await signIn(sso.gate.url, 'carol')).status).toBe(200);
    expect((await userRow('carol'))?.slice(0, 4)).toEqual(['carol', '-', sso.idp.issuer, 'carol']);
  }, 30_000);

  it('a record from before this rule (groups set, no binding) is bound at its first sign-in, as before', async () => {
    await sso.gate.store.setUserGroups('bob', ['artifact-workloads']);
    expect((await userRow('bob'))?.slice(2)).toEqual(['-', '-', '-']);
    expect((await signIn(sso.gate.url, 'bob')).status).toBe(200);
    expect((await userRow('bob'))?.slice(0, 4)).toEqual(['bob', 'artifact-workloads', sso.idp.issuer, 'bob']);
  }, 30_000);
});
