/**
 * Regression: gate tokens outlive what they were minted from.
 *
 * The token endpoint minted a five-minute token from whatever credential it
 * was shown, and the token then stood on its own:
 *
 * - a CI job's JWT that expires in a few seconds bought a token good for
 *   five minutes;
 * - a token minted from a key kept the groups the key had then, after the
 *   operator took them away (`apikey create --groups`);
 * - lowering `auth.apikey.maxLifetime` (SIGHUP) ended the old keys but not
 *   the tokens minted from them (`isActive` ignored it);
 * - a key that expires in a few seconds bought a five-minute token too.
 *
 * Now a token never expires after its source (its `exp` is the earliest of
 * five minutes, the JWT's `exp` and the key's effective expiry), and a token
 * minted from a key is checked against the key's current state on every use:
 * revoked, expired (maxLifetime included) and its owner's current groups.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type Registry } from '../harness/registry.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { basic, ociError, send, type RawResponse } from '../support/http.js';
import { startIssuer, type LocalIssuer } from '../support/issuer.js';

const AUDIENCE = 'zot-gate-regression';
const accessControl = {
  repositories: { '**': { anonymousPolicy: ['read'], policies: [{ groups: ['artifact-workloads'], actions: ['read', 'create'] }] } },
};

let registry: Registry;
let gate: GateUnderTest;
/** A trusted issuer: a JWKS on 127.0.0.1 and a key to sign CI tokens with. */
let issuer: LocalIssuer;

beforeAll(async () => {
  registry = await startRegistry();
  issuer = await startIssuer(AUDIENCE);
  gate = await startGate({ upstream: registry.url, accessControl, extra: { auth: { failDelay: 0, trustedIssuers: [issuer.entry()] } } });
}, 60_000);

afterAll(async () => {
  await gate?.stop();
  await registry?.stop();
  await issuer?.stop();
});

async function tokenFor(authorization: string): Promise<string> {
  const response = await send(gate.url, { path: `/zot/auth/token?service=${gate.host}&scope=repository:team/app:push`, headers: { authorization } });
  expect(response.status).toBe(200);
  return response.json<{ token: string }>().token;
}

const upload = (token: string): Promise<RawResponse> =>
  send(gate.url, { method: 'POST', path: '/v2/team/app/blobs/uploads/', headers: { authorization: `Bearer ${token}` } });

const sleepUntil = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms - Date.now())));
const invalid = { code: 'UNAUTHORIZED', message: 'invalid credentials', detail: { reason: 'invalid-credentials' } };

describe('a gate token is never valid past its source', () => {
  it('a token from a JWT that expires in 3 s expires with it', async () => {
    const jwtExp = Math.floor(Date.now() / 1000) + 3;
    const jwt = await issuer.sign({ preferred_username: 'ci-robot', groups: ['artifact-workloads'] }, { exp: jwtExp });
    const token = await tokenFor(basic('ci-robot', jwt));
    expect(decodeJwt(token).exp).toBeLessThanOrEqual(jwtExp);
    expect((await upload(token)).status).toBe(202);
    await sleepUntil(jwtExp * 1000 + 500);
    const refused = await upload(token);
    expect(refused.status).toBe(401);
    expect(ociError(refused)).toEqual(invalid);
  });

  it('a token from a key that expires in 3 s expires with it', async () => {
    const expiresAt = new Date(Date.now() + 3_000);
    const { key } = await gate.store.create({ owner: 'short', label: 'short', expiresAt, scopes: [], groups: ['artifact-workloads'] });
    const token = await tokenFor(basic('short', key));
    expect(decodeJwt(token).exp! * 1000).toBeLessThanOrEqual(expiresAt.getTime());
  });

  it("a token from a key carries the key's current groups, not those it was minted with", async () => {
    const { key } = await gate.store.create({ owner: 'robot', label: 'robot', expiresAt: null, scopes: [], groups: ['artifact-workloads'] });
    const token = await tokenFor(basic('robot', key));
    expect((await upload(token)).status).toBe(202);
    // what `apikey create --user robot --groups ''` does
    await gate.store.setUserGroups('robot', []);
    const refused = await upload(token);
    expect(refused.status).toBe(403);
    expect(ociError(refused)).toMatchObject({ code: 'DENIED', message: 'user "robot" may not create in repository "team/app"' });
  });

  it('a token from a key dies with the key when it is revoked', async () => {
    const { key, record } = await gate.store.create({ owner: 'ci', label: 'revoked', expiresAt: null, scopes: [], groups: ['artifact-workloads'] });
    const token = await tokenFor(basic('ci', key));
    expect((await upload(token)).status).toBe(202);
    await gate.store.revoke(record.id);
    expect((await upload(token)).status).toBe(401);
  });

  it('lowering auth.apikey.maxLifetime (a config reload) ends older keys and the tokens minted from them', async () => {
    const { key } = await gate.store.create({ owner: 'old', label: 'old', expiresAt: null, scopes: [], groups: ['artifact-workloads'] });
    const token = await tokenFor(basic('old', key));
    expect((await upload(token)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 1_500));
    const config = gate.config;
    gate.app.reloadConfig({ ...config, auth: { ...config.auth, apikeyMaxLifetimeMs: 1_000 } });
    try {
      const refused = await upload(token);
      expect(refused.status).toBe(401);
      expect(ociError(refused)).toEqual(invalid);
      const basicRefused = await send(gate.url, { method: 'POST', path: '/v2/team/app/blobs/uploads/', headers: { authorization: basic('old', key) } });
      expect(basicRefused.status).toBe(401);
    } finally {
      gate.app.reloadConfig(config);
    }
  });
});
