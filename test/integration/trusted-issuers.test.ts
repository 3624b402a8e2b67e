/**
 * Keyless CI against the real test IdP (oidc-provider v9, issue 5 item 3):
 * its client_credentials JWT access tokens (RFC 9068), keys found through
 * its discovery document, and an outage before first use that ends with no
 * restart of the verifier.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrustedIssuer } from '../../src/config/types.js';
import { TrustedIssuers } from '../../src/identity/trusted-issuers.js';
import { DEFAULT_AUDIENCE, startIdp, type Idp } from '../harness/idp.js';

let idp: Idp;

beforeAll(async () => {
  idp = await startIdp();
}, 60_000);

afterAll(async () => {
  await idp?.close();
});

function trusted(over: Partial<TrustedIssuer> = {}): TrustedIssuer {
  return {
    issuer: idp.issuer,
    audience: DEFAULT_AUDIENCE,
    jwksUri: null,
    claimMapping: { username: 'preferred_username', groups: 'groups' },
    requiredScope: null,
    allowUnverifiedEmail: false,
    maxTokenAgeMs: 86_400_000,
    ...over,
  };
}

function accepted(name: string, groups: string[], token: string) {
  return { ok: true, identity: { kind: 'user', name, groups, method: 'jwt' }, expiresAt: (decodeJwt(token).exp as number) * 1000 };
}

describe('tokens from the running IdP', () => {
  it.each<[string, () => Partial<TrustedIssuer>, { clientId: string; scope?: string; audience?: string }, (token: string) => unknown]>([
    ['ci-robot, keys discovered', () => ({}), { clientId: 'ci-robot' }, (t) => accepted('ci-robot', ['artifact-workloads'], t)],
    ['ci-robot, jwksUri configured', () => ({ jwksUri: `${idp.issuer}/jwks` }), { clientId: 'ci-robot' }, (t) => accepted('ci-robot', ['artifact-workloads'], t)],
    ['outsider, no groups', () => ({}), { clientId: 'outsider' }, (t) => accepted('outsider', [], t)],
    ['a token for another audience', () => ({}), { clientId: 'ci-robot', audience: 'https://other.example.org' }, () => ({ ok: false, reason: 'invalid-token' })],
    [
      'requiredScope registry:push, granted',
      () => ({ requiredScope: 'registry:push' }),
      { clientId: 'ci-robot', scope: 'registry:pull registry:push' },
      (t) => accepted('ci-robot', ['artifact-workloads'], t),
    ],
    [
      'requiredScope registry:push, only pull asked for',
      () => ({ requiredScope: 'registry:push' }),
      { clientId: 'ci-robot', scope: 'registry:pull' },
      () => ({ ok: false, reason: 'missing-scope' }),
    ],
  ])('%s', async (_name, config, request, expected) => {
    const token = await idp.clientCredentialsToken(request);
    expect(await new TrustedIssuers([trusted(config())]).verify(token)).toEqual(expected(token));
  });
});

describe('an IdP outage', () => {
  it('keys already fetched keep verifying new tokens while the IdP is down', async () => {
    const issuers = new TrustedIssuers([trusted()]);
    const [first, second] = [await idp.clientCredentialsToken(), await idp.clientCredentialsToken({ clientId: 'outsider' })];
    expect(await issuers.verify(first)).toEqual(accepted('ci-robot', ['artifact-workloads'], first));
    await idp.stop();
    try {
      expect(await issuers.verify(second)).toEqual(accepted('outsider', [], second));
    } finally {
      await idp.restart();
    }
  });

  it('down before first use: issuer-unavailable, then verifies within 2 s of its return', async () => {
    const token = await idp.clientCredentialsToken();
    await idp.stop();
    const issuers = new TrustedIssuers([trusted()]);
    expect(await issuers.verify(token)).toEqual({
      ok: false,
      reason: 'issuer-unavailable',
      detail: `${idp.issuer}: fetch failed: connect ECONNREFUSED 127.0.0.1:${idp.port}`,
    });

    await idp.restart();
    const back = Date.now();
    let result = await issuers.verify(token);
    while (!result.ok && Date.now() - back < 10_000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      result = await issuers.verify(token);
    }
    expect(result).toEqual(accepted('ci-robot', ['artifact-workloads'], token));
    // One failure means a 1 s backoff, and it started before the restart did.
    expect(Date.now() - back).toBeLessThan(2_000);
  });
});
