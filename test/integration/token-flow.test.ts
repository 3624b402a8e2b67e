/**
 * The Docker token flow (issue 5): docker, containerd and skopeo pull
 * anonymously and push with credentials against one hostname; gate tokens
 * are refused when expired, forged, tampered with, signed by another key or
 * minted from a key since revoked.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, SignJWT, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GateTokens } from '../../src/identity/gate-tokens.js';
import { startContainerd, type Containerd } from '../harness/containerd.js';
import { pullToLayout, pushLayout } from '../harness/skopeo.js';
import { basic, ociError, send } from '../support/http.js';
import { useStack } from '../support/stack.js';

const stack = useStack({
  accessControl: {
    repositories: { '**': { anonymousPolicy: ['read'], policies: [{ groups: ['artifact-workloads'], actions: ['read', 'create'] }] } },
  },
  image: { seed: 'token-flow', tag: '1', pushTo: ['library/base:1'] },
}, 120_000);
let containerd: Containerd;
let key: string;
let keyId: string;

beforeAll(async () => {
  containerd = await startContainerd();
  ({ key, record: { id: keyId } } = await stack.gate.store.create({ owner: 'ci', label: 'ci', expiresAt: null, scopes: [], groups: ['artifact-workloads'] }));
}, 120_000);

afterAll(async () => {
  await containerd?.stop();
});

const tokenRequests = () => stack.gate.received.filter((r) => r.url.startsWith('/zot/auth/token'));

async function tokenFor(authorization?: string): Promise<string> {
  const response = await send(stack.gate.url, { path: `/zot/auth/token?service=${stack.gate.host}&scope=repository:x:pull`, headers: authorization ? { authorization } : {} });
  expect(response.status).toBe(200);
  return response.json<{ token: string }>().token;
}

describe('real clients go through the token endpoint', () => {
  it('skopeo pulls anonymously and pushes with a key', async () => {
    stack.gate.received.length = 0;
    const pulled = await pullToLayout(`${stack.gate.host}/library/base:1`, join(stack.work, 'pulled'));
    expect(pulled.code, pulled.stderr).toBe(0);
    const pushed = await pushLayout(stack.image.layoutDir, '1', `${stack.gate.host}/team/skopeo:1`, { username: 'ci', password: key });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(tokenRequests().length).toBeGreaterThanOrEqual(2);
    expect(tokenRequests().every((r) => r.method === 'GET')).toBe(true);
  });

  it("containerd's ctr pulls anonymously and pushes with --user ci:<key>", async () => {
    stack.gate.received.length = 0;
    const pulled = await containerd.pull(`${stack.gate.host}/library/base:1`);
    expect(pulled.code, pulled.stderr).toBe(0);
    const pushed = await containerd.push(`${stack.gate.host}/team/ctr:1`, { creds: { username: 'ci', password: key }, local: `${stack.gate.host}/library/base:1` });
    expect(pushed.code, pushed.stderr).toBe(0);
    // containerd tries the OAuth2 POST first, gets 405, and falls back to GET with Basic.
    expect(tokenRequests().map((r) => r.method)).toEqual(expect.arrayContaining(['GET', 'POST']));
    const head = await send(stack.registry.url, { method: 'HEAD', path: '/v2/team/ctr/manifests/1', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(head.status).toBe(200);
  });

  it('an anonymous ctr push is refused', async () => {
    const pushed = await containerd.push(`${stack.gate.host}/team/ctr-anon:1`, { local: `${stack.gate.host}/library/base:1` });
    expect(pushed.code).not.toBe(0);
  });
});

describe('the token endpoint', () => {
  it('issues an anonymous token without credentials, and a named one for a key', async () => {
    const anonymous = decodeJwt(await tokenFor());
    expect(anonymous).toMatchObject({ iss: 'zot-gate', aud: stack.gate.host, anon: true });
    expect(anonymous.sub).toBeUndefined();
    expect(anonymous.exp! - anonymous.iat!).toBe(300);
    const named = decodeJwt(await tokenFor(basic('ci', key)));
    expect(named).toMatchObject({ iss: 'zot-gate', aud: stack.gate.host, sub: 'ci', groups: ['artifact-workloads'], amr: 'apikey', kid: keyId });
  });

  it("the request log line names whom the token was issued to (issue 12); anonymous and refused ones name nobody", async () => {
    stack.gate.logs.length = 0;
    await tokenFor(basic('ci', key));
    await tokenFor();
    const refused = await send(stack.gate.url, { path: '/zot/auth/token?service=x', headers: { authorization: basic('ci', 'zak_wrong') } });
    expect(refused.status).toBe(401);
    const lines = stack.gate.logs.filter((l) => l.msg === 'request' && l.url === '/zot/auth/token');
    expect(lines.map(({ status, user, reason }) => ({ status, user, reason }))).toEqual([
      { status: 200, user: 'ci', reason: 'token-issued' },
      { status: 200, user: null, reason: 'anonymous-token' },
      { status: 401, user: null, reason: 'invalid-credentials' },
    ]);
  });

  it('answers in the token spec shape', async () => {
    const response = await send(stack.gate.url, { path: '/zot/auth/token?service=x', headers: { authorization: basic('ci', key) } });
    const body = response.json<Record<string, unknown>>();
    expect(Object.keys(body)).toEqual(['token', 'access_token', 'expires_in', 'issued_at']);
    expect(body.access_token).toBe(body.token);
    expect(body.expires_in).toBe(300);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it.each([
    ['a wrong key', () => basic('ci', 'zak_00000000000000000000000000000000')],
    ['a wrong user for the key', () => basic('someone', key)],
    ['a password that is not a key', () => basic('ci', 'hunter2')],
  ])('%s → 401, so a docker login check rejects it', async (_name, header) => {
    const response = await send(stack.gate.url, { path: '/zot/auth/token?service=x', headers: { authorization: header() } });
    expect(response.status).toBe(401);
    expect(ociError(response)).toEqual({ code: 'UNAUTHORIZED', message: 'invalid credentials', detail: { reason: 'invalid-credentials' } });
  });

  it('the OAuth2 POST form is 405, never an anonymous token', async () => {
    const response = await send(stack.gate.url, {
      method: 'POST',
      path: '/zot/auth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=password&username=ci&password=${key}&service=x&client_id=containerd`,
    });
    expect(response.status).toBe(405);
    expect(ociError(response).detail.reason).toBe('oauth-form-unsupported');
  });
});

describe('Bearer tokens at the registry', () => {
  const upload = (token: string) => send(stack.gate.url, { method: 'POST', path: '/v2/team/t/blobs/uploads/', headers: { authorization: `Bearer ${token}` } });

  it('a named token pushes; an anonymous token pulls but cannot push', async () => {
    expect((await upload(await tokenFor(basic('ci', key)))).status).toBe(202);
    const anonymous = await tokenFor();
    expect((await send(stack.gate.url, { path: '/v2/library/base/tags/list', headers: { authorization: `Bearer ${anonymous}` } })).status).toBe(200);
    const refused = await upload(anonymous);
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe(`Bearer realm="${stack.gate.url}/zot/auth/token",service="${stack.gate.host}",scope="repository:team/t:pull,push"`);
  });

  it('GET /v2/ with a valid token is 200', async () => {
    expect((await send(stack.gate.url, { path: '/v2/', headers: { authorization: `Bearer ${await tokenFor(basic('ci', key))}` } })).status).toBe(200);
  });

  it.each([
    ['alg none', async () => forge({ alg: 'none' }, { iss: 'zot-gate', aud: stack.gate.host, sub: 'admin', groups: ['admins'] }, '')],
    ['tampered payload', async () => tamper(await tokenFor(basic('ci', key)), { sub: 'admin', groups: ['admins'] })],
    ['a foreign signer', async () => foreignSigned({ sub: 'ci', groups: ['artifact-workloads'] })],
    ['a previous signing key', async () => previousKey()],
    ['expired', async () => foreignSigned({ sub: 'ci' }, { expired: true, own: true })],
    ['another audience', async () => (await (await ownTokens()).issue({ kind: 'user', name: 'ci', groups: [], method: 'apikey' }, 'other.example', new Date())).token],
    ['not a JWT', async () => 'abc.def'],
  ])('%s → 401', async (_name, make) => {
    const response = await upload(await make());
    expect(response.status).toBe(401);
    expect(ociError(response)).toEqual({ code: 'UNAUTHORIZED', message: 'invalid credentials', detail: { reason: 'invalid-credentials' } });
  });

  it('a token minted from a key stops working when the key is revoked', async () => {
    const { key: doomed, record } = await stack.gate.store.create({ owner: 'ci', label: 'doomed', expiresAt: null, scopes: [] });
    const token = await tokenFor(basic('ci', doomed));
    expect((await upload(token)).status).toBe(202);
    await stack.gate.store.revoke(record.id);
    const started = Date.now();
    let status = 202;
    while (status !== 401 && Date.now() - started < 5_000) {
      status = (await upload(token)).status;
      if (status !== 401) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(401);
  });
});

// --- forging helpers: each builds a token the gate must refuse ---

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function forge(header: object, payload: object, signature: string): string {
  const now = Math.floor(Date.now() / 1000);
  return `${b64(header)}.${b64({ iat: now, exp: now + 300, ...payload })}.${signature}`;
}

function tamper(token: string, changes: object): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  return `${header}.${b64({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), ...changes })}.${signature}`;
}

async function foreignSigned(claims: object, opts: { expired?: boolean; own?: boolean } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  if (opts.own === true) {
    // an expired token from the gate's own key: mint through the real class with a clock in the past
    const tokens = await ownTokens();
    return (await tokens.issue({ kind: 'user', name: 'ci', groups: [], method: 'apikey' }, stack.gate.host, new Date(Date.now() - 3_600_000))).token;
  }
  const { privateKey } = await generateKeyPair('ES256');
  const kid = decodeProtectedHeader(await tokenFor()).kid!;
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer('zot-gate')
    .setAudience(stack.gate.host)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(privateKey);
}

/** The gate's own signer, opened on its data dir (the same key file). */
function ownTokens(): Promise<GateTokens> {
  return GateTokens.open(stack.gate.config.dataDir);
}

/** A token from a signing key the gate no longer has: a fresh data dir stands for the key before rotation. */
async function previousKey(): Promise<string> {
  const old = await GateTokens.open(mkdtempSync(join(tmpdir(), 'zot-gate-oldkey-')));
  return (await old.issue({ kind: 'user', name: 'ci', groups: ['artifact-workloads'], method: 'apikey' }, stack.gate.host, new Date())).token;
}

