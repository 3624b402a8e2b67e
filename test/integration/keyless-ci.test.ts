/**
 * Keyless CI (issue 5): a client_credentials JWT from the IdP, used as the
 * Basic password (what skopeo, docker and Dagger can send), pushes where the
 * token's groups allow and is refused where they don't; through the token
 * flow it becomes a gate token for the same identity.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_AUDIENCE, startIdp, type Idp } from '../harness/idp.js';
import { pushLayout } from '../harness/skopeo.js';
import { startGate } from '../support/gate.js';
import { basic, ociError, send } from '../support/http.js';
import { trustedIssuer } from '../support/issuer.js';
import { useStack } from '../support/stack.js';

let idp: Idp;

beforeAll(async () => {
  idp = await startIdp();
});

afterAll(async () => {
  await idp?.close();
});

const stack = useStack(() => ({
  accessControl: {
    repositories: {
      'ci/**': { policies: [{ groups: ['artifact-workloads'], actions: ['read', 'create'] }] },
      'prod/**': { policies: [{ groups: ['admins'], actions: ['read', 'create'] }] },
    },
  },
  extra: {
    auth: {
      failDelay: 0,
      trustedIssuers: [trustedIssuer(idp.issuer, DEFAULT_AUDIENCE)],
    },
  },
  image: { seed: 'keyless', tag: '1' },
}));

describe('a client_credentials JWT as the Basic password', () => {
  it('pushes with skopeo where its groups allow, through the token flow', async () => {
    const jwt = await idp.clientCredentialsToken({ clientId: 'ci-robot' });
    stack.gate.received.length = 0;
    const pushed = await pushLayout(stack.image.layoutDir, '1', `${stack.gate.host}/ci/app:1`, { username: 'ci-robot', password: jwt });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(stack.gate.received.some((r) => r.url.startsWith('/zot/auth/token'))).toBe(true);
  });

  it('is refused where its groups do not allow', async () => {
    const jwt = await idp.clientCredentialsToken({ clientId: 'ci-robot' });
    const pushed = await pushLayout(stack.image.layoutDir, '1', `${stack.gate.host}/prod/app:1`, { username: 'ci-robot', password: jwt });
    expect(pushed.code).not.toBe(0);
    const raw = await send(stack.gate.url, { method: 'POST', path: '/v2/prod/app/blobs/uploads/', headers: { authorization: basic('any-name', jwt) } });
    expect(raw.status).toBe(403);
    expect(ociError(raw)).toMatchObject({ code: 'DENIED', message: 'user "ci-robot" may not create in repository "prod/app"' });
  });

  it('an outsider without groups is refused everywhere', async () => {
    const jwt = await idp.clientCredentialsToken({ clientId: 'outsider' });
    const raw = await send(stack.gate.url, { method: 'POST', path: '/v2/ci/app/blobs/uploads/', headers: { authorization: basic('outsider', jwt) } });
    expect(raw.status).toBe(403);
  });

  it('is accepted as a Bearer token too', async () => {
    const jwt = await idp.clientCredentialsToken({ clientId: 'ci-robot' });
    const raw = await send(stack.gate.url, { method: 'POST', path: '/v2/ci/app/blobs/uploads/', headers: { authorization: `Bearer ${jwt}` } });
    expect(raw.status).toBe(202);
  });

  it.each([
    ['another audience', () => idp.clientCredentialsToken({ clientId: 'ci-robot', audience: 'https://elsewhere.example' })],
    ['a tampered token', async () => {
      const [h, p, s] = (await idp.clientCredentialsToken({ clientId: 'outsider' })).split('.') as [string, string, string];
      const payload = { ...JSON.parse(Buffer.from(p, 'base64url').toString()), groups: ['admins'] };
      return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    }],
  ])('%s → 401 at the registry and at the token endpoint', async (_name, make) => {
    const jwt = await make();
    const raw = await send(stack.gate.url, { method: 'POST', path: '/v2/ci/app/blobs/uploads/', headers: { authorization: basic('ci-robot', jwt) } });
    expect(raw.status).toBe(401);
    const token = await send(stack.gate.url, { path: '/zot/auth/token?service=x', headers: { authorization: basic('ci-robot', jwt) } });
    expect(token.status).toBe(401);
  });

  it('while the issuer cannot be reached for its keys, a new issuer token gets 503, not 401', async () => {
    // A fresh gate has not fetched the IdP's keys yet; stop the IdP first.
    await idp.stop();
    const fresh = await startGate({
      upstream: stack.registry.url,
      accessControl: { repositories: { '**': { policies: [{ groups: ['artifact-workloads'], actions: ['read'] }] } } },
      extra: { auth: { failDelay: 0, trustedIssuers: [{ issuer: idp.issuer, audience: DEFAULT_AUDIENCE, claimMapping: { username: 'preferred_username' } }] } },
    });
    try {
      await idp.restart();
      const jwt = await idp.clientCredentialsToken({ clientId: 'ci-robot' });
      await idp.stop();
      const raw = await send(fresh.url, { path: '/v2/ci/app/tags/list', headers: { authorization: `Bearer ${jwt}` } });
      expect(raw.status).toBe(503);
      expect(ociError(raw).detail.reason).toBe('issuer-unavailable');
    } finally {
      await fresh.stop();
      await idp.restart();
    }
  });
});
