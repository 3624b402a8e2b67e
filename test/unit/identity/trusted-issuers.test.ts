/**
 * TrustedIssuers against a real JWKS endpoint: a node http server on
 * 127.0.0.1 serving key sets and issuer metadata, with tokens signed here by
 * jose. The attacks of issue 5 each have a row: `alg: none`, HS256 keyed with
 * the issuer's public key (key confusion), a tampered payload, a foreign
 * signer, a token for another audience or from another issuer.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, base64url, decodeJwt, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import type { JWK, JWTPayload } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TrustedIssuer } from '../../../src/config/types.js';
import { TRUSTED_ALGORITHMS, TrustedIssuers } from '../../../src/identity/trusted-issuers.js';
import { freePort } from '../../harness/ports.js';

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
interface Signer {
  readonly alg: string;
  readonly kid: string;
  readonly privateKey: PrivateKey;
  readonly jwk: JWK;
  readonly spki: string;
}
interface Route {
  status: number;
  body: unknown;
}

/** A JWKS and metadata server on port 0 that counts the requests per path. */
interface KeyServer {
  readonly url: string;
  readonly routes: Map<string, Route>;
  hits(path: string): number;
  close(): Promise<void>;
}

async function startKeyServer(): Promise<KeyServer> {
  const routes = new Map<string, Route>();
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = routes.get(path) ?? { status: 404, body: { error: 'not found' } };
    res.writeHead(route.status, { 'content-type': 'application/json' }).end(JSON.stringify(route.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    routes,
    hits: (path) => hits.get(path) ?? 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function makeSigner(alg: string, kid: string, jwkAlg?: string): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, use: 'sig', ...(jwkAlg === undefined ? {} : { alg: jwkAlg }) };
  return { alg, kid, privateKey, jwk, spki: alg === 'EdDSA' ? '' : await exportSPKI(publicKey) };
}

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const T0S = T0 / 1000;
const AUDIENCE = 'https://registry.example.org';
const CI = 'https://ci.example.org';
const SCOPED = 'https://scoped.example.org';
const OTHER = 'https://other.example.org';
const MAPPING = { username: 'preferred_username', groups: 'groups' };

let server: KeyServer;
let rsa: Signer;
let pss: Signer;
let ec: Signer;
let ed: Signer;
let otherKey: Signer;
let foreign: Signer;
let clock = T0;
const now = (): Date => new Date(clock);

function trusted(issuer: string, jwksUri: string | null, requiredScope: string | null = null): TrustedIssuer {
  return { issuer, audience: AUDIENCE, jwksUri, claimMapping: MAPPING, requiredScope, allowUnverifiedEmail: false, maxTokenAgeMs: 86_400_000 };
}

/** Claims of a good token from `CI`; `undefined` removes a claim. */
function claims(over: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = {
    iss: CI,
    aud: AUDIENCE,
    sub: 'client:ci-bot',
    preferred_username: 'ci-bot',
    groups: ['deployers', 'builders', 'deployers'],
    iat: T0S,
    exp: T0S + 600,
    ...over,
  };
  return Object.fromEntries(Object.entries(base).filter(([, value]) => value !== undefined));
}

function sign(payload: JWTPayload, signer: Signer = rsa, header: { alg?: string; kid?: string } = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: header.alg ?? signer.alg, kid: header.kid ?? signer.kid }).sign(signer.privateKey);
}

function encode(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

function ok(over: Record<string, unknown> = {}, exp = T0S + 600) {
  return { ok: true, identity: { kind: 'user', name: 'ci-bot', groups: ['builders', 'deployers'], method: 'jwt', ...over }, expiresAt: exp * 1000 };
}

function no(reason: string) {
  return { ok: false, reason };
}

beforeAll(async () => {
  server = await startKeyServer();
  // Issuers often publish keys without `alg`; jose then selects them by `kty`.
  [rsa, pss, ec, ed, otherKey, foreign] = await Promise.all([
    makeSigner('RS256', 'ci-rsa'),
    makeSigner('PS256', 'ci-pss', 'PS256'),
    makeSigner('ES256', 'ci-ec', 'ES256'),
    makeSigner('EdDSA', 'ci-ed'),
    makeSigner('RS256', 'other-rsa', 'RS256'),
    makeSigner('RS256', 'ci-rsa'),
  ]);
  server.routes.set('/ci/jwks', { status: 200, body: { keys: [rsa.jwk, pss.jwk, ec.jwk, ed.jwk] } });
  server.routes.set('/other/jwks', { status: 200, body: { keys: [otherKey.jwk] } });
});

afterAll(async () => {
  await server?.close();
});

beforeEach(() => {
  clock = T0;
});

describe('verify', () => {
  let issuers: TrustedIssuers;
  beforeAll(() => {
    issuers = new TrustedIssuers(
      [trusted(CI, `${server.url}/ci/jwks`), trusted(SCOPED, `${server.url}/ci/jwks`, 'registry:push'), trusted(OTHER, `${server.url}/other/jwks`)],
      { now },
    );
  });

  const tamper = async (): Promise<string> => {
    const token = await sign(claims());
    const [header, , signature] = token.split('.');
    return `${header}.${encode({ ...decodeJwt(token), preferred_username: 'admin' })}.${signature}`;
  };

  it.each<[string, () => Promise<string>, unknown]>([
    ['RS256', () => sign(claims()), ok()],
    ['PS256', () => sign(claims(), pss), ok()],
    ['ES256', () => sign(claims(), ec), ok()],
    ['EdDSA', () => sign(claims(), ed), ok()],
    ['expired 2 min ago', () => sign(claims({ exp: T0S - 120 })), no('expired-token')],
    ['expired 30 s ago, within the 60 s tolerance', () => sign(claims({ exp: T0S - 30 })), ok({}, T0S - 30)],
    ['nbf 2 min ahead', () => sign(claims({ nbf: T0S + 120 })), no('invalid-token')],
    ['nbf 30 s ahead, within the tolerance', () => sign(claims({ nbf: T0S + 30 })), ok()],
    ['another audience', () => sign(claims({ aud: 'https://elsewhere.example.org' })), no('invalid-token')],
    ['the audience among several', () => sign(claims({ aud: ['https://elsewhere.example.org', AUDIENCE] })), ok()],
    ['signed by CI, iss naming another trusted issuer', () => sign(claims({ iss: OTHER })), no('invalid-token')],
    ['an untrusted issuer', () => sign(claims({ iss: 'https://evil.example.org' })), no('untrusted-issuer')],
    ['the issuer with a trailing slash (compared exactly)', () => sign(claims({ iss: `${CI}/` })), no('untrusted-issuer')],
    ['no iss', () => sign(claims({ iss: undefined })), no('untrusted-issuer')],
    ['Ed25519 (RFC 9864), signed by a published key but outside the allow-list', () => sign(claims(), ed, { alg: 'Ed25519' }), no('invalid-token')],
    ['alg none', async () => `${encode({ alg: 'none' })}.${encode(claims())}.`, no('invalid-token')],
    ['alg none with a kid and a signature', async () => `${encode({ alg: 'none', kid: 'ci-rsa' })}.${encode(claims())}.c2ln`, no('invalid-token')],
    [
      'HS256 keyed with the public key (key confusion)',
      () => new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: 'ci-rsa' }).sign(new TextEncoder().encode(rsa.spki)),
      no('invalid-token'),
    ],
    ['a tampered payload with the original signature', tamper, no('invalid-token')],
    ['a foreign signer with the real kid', () => sign(claims(), foreign), no('invalid-token')],
    ['a foreign signer with an unknown kid', () => sign(claims(), foreign, { kid: 'not-published' }), no('invalid-token')],
    ['no exp', () => sign(claims({ exp: undefined })), no('invalid-token')],
    ['exp that is not a number', () => sign(claims({ exp: 'tomorrow' })), no('invalid-token')],
    ['not a JWT', async () => 'abc', no('invalid-token')],
    ['a payload that is not JSON', async () => `${encode({ alg: 'RS256' })}.${base64url.encode('not json')}.c2ln`, no('invalid-token')],
  ])('%s', async (_name, token, expected) => {
    expect(await issuers.verify(await token())).toEqual(expected);
  });

  it.each<[string, Record<string, unknown>, unknown]>([
    ['scope with it', { scope: 'registry:pull registry:push' }, ok()],
    ['scope without it', { scope: 'registry:pull' }, no('missing-scope')],
    ['scope with a longer name that starts with it', { scope: 'registry:push-all' }, no('missing-scope')],
    ['scp with it', { scp: ['registry:pull', 'registry:push'] }, ok()],
    ['scp without it', { scp: ['registry:pull'] }, no('missing-scope')],
    ['no scope at all', {}, no('missing-scope')],
    ['no scope and expired: the signature and times are checked first', { exp: T0S - 120 }, no('expired-token')],
  ])('requiredScope registry:push, %s', async (_name, over, expected) => {
    expect(await issuers.verify(await sign(claims({ iss: SCOPED, ...over })))).toEqual(expected);
  });

  it.each<[string, Record<string, unknown>, unknown]>([
    ['groups as a string', { groups: 'builders' }, ok({ groups: ['builders'] })],
    ['groups as an array: sorted, de-duplicated, non-strings dropped', { groups: ['b', 'a', 'b', 7, ''] }, ok({ groups: ['a', 'b'] })],
    ['no groups claim', { groups: undefined }, ok({ groups: [] })],
    ['no username claim', { preferred_username: undefined }, no('missing-claim')],
    ['an empty username', { preferred_username: ' ' }, no('missing-claim')],
    ['a username that is not a string', { preferred_username: 42 }, no('missing-claim')],
    ['a username with control characters', { preferred_username: 'ci\u001b[2J' }, no('username-invalid')],
  ])('claim mapping: %s', async (_name, over, expected) => {
    expect(await issuers.verify(await sign(claims(over)))).toEqual(expected);
  });
});

describe('verify, with the email claim as the username (no binding: service identities have no login)', () => {
  const EMAIL_MAPPING = { username: 'email', groups: 'groups' };
  const STRICT = 'https://strict.example.org';
  const LENIENT = 'https://lenient.example.org';
  let issuers: TrustedIssuers;
  beforeAll(() => {
    issuers = new TrustedIssuers(
      [
        { ...trusted(STRICT, `${server.url}/ci/jwks`), claimMapping: EMAIL_MAPPING },
        { ...trusted(LENIENT, `${server.url}/ci/jwks`), claimMapping: EMAIL_MAPPING, allowUnverifiedEmail: true },
      ],
      { now },
    );
  });
  const as = (name: string) => ok({ name });

  it.each<[string, string, Record<string, unknown>, unknown]>([
    ['email_verified true', STRICT, { email: 'ci@example.org', email_verified: true }, as('ci@example.org')],
    ['email_verified false', STRICT, { email: 'ci@example.org', email_verified: false }, no('email-unverified')],
    ['no email_verified', STRICT, { email: 'ci@example.org' }, no('email-unverified')],
    ['email_verified false, the issuer entry sets allowUnverifiedEmail', LENIENT, { email: 'ci@example.org', email_verified: false }, as('ci@example.org')],
  ])('%s (%s)', async (_name, iss, over, expected) => {
    expect(await issuers.verify(await sign(claims({ iss, ...over })))).toEqual(expected);
  });
});

describe('looksLikeJwt', () => {
  const issuers = new TrustedIssuers([]);
  it.each([
    ['eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln', true],
    ['eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.', true],
    ['zak_0123456789abcdef0123456789abcdef', false],
    ['a.b', false],
    ['a.b.c.d.e', false],
    ['a+b.c.d', false],
    ['.b.c', false],
    ['', false],
  ])('%j → %j', (token, expected) => {
    expect(issuers.looksLikeJwt(token)).toBe(expected);
  });
});

describe('an issuer that is down', () => {
  const DOWN = 'https://down.example.org';
  const FLAKY = 'https://flaky.example.org';
  let closedPort: number;
  let issuers: TrustedIssuers;
  beforeAll(async () => {
    closedPort = await freePort();
    server.routes.set('/flaky/jwks', { status: 503, body: { error: 'unavailable' } });
    issuers = new TrustedIssuers(
      [trusted(CI, `${server.url}/ci/jwks`), trusted(DOWN, `http://127.0.0.1:${closedPort}/jwks`), trusted(FLAKY, `${server.url}/flaky/jwks`)],
      { now },
    );
  });

  it('is issuer-unavailable while another issuer keeps verifying', async () => {
    expect(await issuers.verify(await sign(claims({ iss: DOWN })))).toEqual({
      ok: false,
      reason: 'issuer-unavailable',
      detail: `${DOWN}: fetch failed: connect ECONNREFUSED 127.0.0.1:${closedPort}`,
    });
    expect(await issuers.verify(await sign(claims()))).toEqual(ok());
  });

  it('is retried with backoff (1 s, then 2 s), concurrent failures counting once, until it answers', async () => {
    const jwks = `${server.url}/flaky/jwks`;
    const failed = `${FLAKY}: HTTP 503 from ${jwks}`;
    const steps: Array<[string, number, number, unknown]> = [
      // [what, ms since the previous step, requests so far, outcome]
      ['first use: five at once share one request', 0, 1, { ok: false, reason: 'issuer-unavailable', detail: failed }],
      ['within 1 s: refused without a request', 500, 1, { ok: false, reason: 'issuer-unavailable', detail: `${failed} (next attempt in 1 s)` }],
      ['after 1 s: tried again', 500, 2, { ok: false, reason: 'issuer-unavailable', detail: failed }],
      ['1 s later: still backing off (2 s now)', 1_000, 2, { ok: false, reason: 'issuer-unavailable', detail: `${failed} (next attempt in 1 s)` }],
      ['the issuer is back and 2 s have passed', 1_000, 3, ok()],
    ];
    for (const [what, advance, requests, outcome] of steps) {
      clock += advance;
      if (what.startsWith('the issuer is back')) server.routes.set('/flaky/jwks', { status: 200, body: { keys: [rsa.jwk] } });
      const token = await sign(claims({ iss: FLAKY, jti: what }));
      const results = await Promise.all(Array.from({ length: advance === 0 ? 5 : 1 }, () => issuers.verify(token)));
      expect({ what, results: new Set(results.map((r) => JSON.stringify(r))).size, requests: server.hits('/flaky/jwks') }).toEqual({ what, results: 1, requests });
      expect(results[0]).toEqual(outcome);
    }
  });
});

describe('discovery, when no jwksUri is configured', () => {
  let issuers: TrustedIssuers;
  const at = (path: string): string => `${server.url}${path}`;
  beforeAll(() => {
    server.routes.set('/tenant/.well-known/openid-configuration', { status: 200, body: { issuer: at('/tenant'), jwks_uri: at('/ci/jwks') } });
    // RFC 8414 §3: the well-known segment goes between the host and the issuer's path.
    server.routes.set('/.well-known/oauth-authorization-server/oauth-only', { status: 200, body: { issuer: at('/oauth-only'), jwks_uri: at('/ci/jwks') } });
    server.routes.set('/liar/.well-known/openid-configuration', { status: 200, body: { issuer: 'https://evil.example.org', jwks_uri: at('/ci/jwks') } });
    server.routes.set('/plain/.well-known/openid-configuration', { status: 200, body: { issuer: at('/plain'), jwks_uri: 'http://keys.example.org/jwks' } });
    issuers = new TrustedIssuers(['/tenant', '/oauth-only', '/liar', '/plain', '/none'].map((path) => trusted(at(path), null)), { now });
  });

  it.each<[string, () => unknown, Record<string, number>]>([
    ['/tenant', () => ok(), { '/tenant/.well-known/openid-configuration': 1 }],
    ['/oauth-only', () => ok(), { '/oauth-only/.well-known/openid-configuration': 1, '/.well-known/oauth-authorization-server/oauth-only': 1 }],
    [
      '/liar',
      () => ({ ok: false, reason: 'issuer-unavailable', detail: `${at('/liar')}: issuer metadata names "https://evil.example.org", not ${at('/liar')}` }),
      { '/liar/.well-known/openid-configuration': 1 },
    ],
    [
      '/plain',
      () => ({ ok: false, reason: 'issuer-unavailable', detail: `${at('/plain')}: jwks_uri http://keys.example.org/jwks must be https (http is accepted only for a loopback host)` }),
      { '/plain/.well-known/openid-configuration': 1 },
    ],
    [
      '/none',
      () => ({
        ok: false,
        reason: 'issuer-unavailable',
        detail: `${at('/none')}: no issuer metadata: HTTP 404 from ${at('/none/.well-known/openid-configuration')}, HTTP 404 from ${at('/.well-known/oauth-authorization-server/none')}`,
      }),
      { '/none/.well-known/openid-configuration': 1, '/.well-known/oauth-authorization-server/none': 1 },
    ],
  ])('issuer %s', async (path, expected, requests) => {
    for (let i = 0; i < 2; i++) {
      const result = await issuers.verify(await sign(claims({ iss: at(path), jti: String(i) })));
      // The second attempt is inside the backoff (failures) or served by the discovered keys (success).
      if (i === 0) expect(result).toEqual(expected());
    }
    expect(Object.fromEntries(Object.keys(requests).map((p) => [p, server.hits(p)]))).toEqual(requests);
  });
});

describe('the verification cache', () => {
  it('verifies a token once: one key fetch, the same identity object', async () => {
    server.routes.set('/cached/jwks', { status: 200, body: { keys: [rsa.jwk] } });
    const issuers = new TrustedIssuers([trusted(CI, `${server.url}/cached/jwks`)], { now });
    const token = await sign(claims());
    const first = await issuers.verify(token);
    const second = await issuers.verify(token);
    expect(first).toEqual(ok());
    expect(second).toEqual(ok());
    expect(second.ok && first.ok && second.identity === first.identity).toBe(true);
    expect(server.hits('/cached/jwks')).toBe(1);
  });

  it.each<[string, number, number, unknown]>([
    // [what, token exp, clock at the second verify, second outcome]
    ['a cached token is not served past its exp', T0S + 30, T0 + 120_000, no('expired-token')],
    ['a token accepted within the tolerance after exp is not cached', T0S - 30, T0, ok({}, T0S - 30)],
  ])('%s', async (_name, exp, secondAt, expected) => {
    const issuers = new TrustedIssuers([trusted(CI, `${server.url}/ci/jwks`)], { now });
    const token = await sign(claims({ exp }));
    const first = await issuers.verify(token);
    expect(first).toEqual(ok({}, exp));
    clock = secondAt;
    const second = await issuers.verify(token);
    expect(second).toEqual(expected);
    expect(second.ok && first.ok && second.identity === first.identity).toBe(false);
  });
});

describe('construction', () => {
  it.each<[string, () => unknown, string]>([
    ['clock tolerance above 300 s', () => new TrustedIssuers([], { clockToleranceSec: 301 }), 'clockToleranceSec must be between 0 and 300, not 301'],
    ['negative clock tolerance', () => new TrustedIssuers([], { clockToleranceSec: -1 }), 'clockToleranceSec must be between 0 and 300, not -1'],
    ['a zero fetch timeout', () => new TrustedIssuers([], { fetchTimeoutMs: 0 }), 'fetchTimeoutMs must be between 1 and 60000, not 0'],
    ['one issuer twice', () => new TrustedIssuers([trusted(CI, null), trusted(CI, null)]), `trustedIssuers: ${CI} is listed twice`],
  ])('refuses %s', (_name, make, message) => {
    expect(make).toThrow(new RangeError(message));
  });

  it('allows asymmetric algorithms only', () => {
    expect(TRUSTED_ALGORITHMS).toEqual(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']);
  });
});
