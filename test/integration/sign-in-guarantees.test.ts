/**
 * What the browser sign-in guarantees, each shown against the real OIDC
 * provider (oidc-provider, PKCE required), a real sign-in at its login form,
 * and the gate's own sealed login cookie:
 *
 * - the `state` is bound to the browser that started the login (it lives in
 *   that browser's sealed, HttpOnly login cookie, and the callback's must
 *   equal it) — and is single-use on the server
 *   (test/regression/login-state-replay.test.ts);
 * - PKCE (S256): the code is worthless without the verifier sealed in that
 *   cookie, even to a holder of the gate's client secret;
 * - the ID token's `nonce` must be the one sealed in that cookie;
 * - the issuer: the authorization response's `iss` (RFC 9207) must name the
 *   configured issuer, and so must the ID token's `iss` claim.
 *
 * A refused callback is 400 "Login failed", sets no session, and — where the
 * refusal can be made from the callback alone — sends no request to the IdP.
 * Where a test needs a login cookie the gate never issued (the nonce), it
 * seals one with the gate's own key from its dataDir, as only the gate can.
 */
import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { seal, unseal } from '../../src/sso/seal.js';
import { loadSessionKey } from '../../src/sso/session-key.js';
import { startIdp, type Idp } from '../harness/idp.js';
import { basic, send, type RawResponse } from '../support/http.js';
import { signIn } from '../support/sign-in.js';
import { testIdpAuth } from '../support/sso.js';
import { useSsoGate } from '../support/sso-gate.js';

const CALLBACK = '/zot/auth/callback/oidc';
const LOGIN_COOKIE = 'zot_gate_login';
const FAILED = 'The sign-in could not be completed. Start again.';

const sso = useSsoGate({
  accessControl: { repositories: { '**': { anonymousPolicy: ['read'] } } },
  auth: (idp) =>
    testIdpAuth(idp, {
      // every refusal here is on purpose: none may lock the address out of the next test
      throttle: { maxFailures: 0, usernameMaxFailures: 0 },
    }),
});
/** another real provider: a foreign issuer */
let other: Idp;
let key: Uint8Array;

beforeAll(async () => {
  other = await startIdp();
  sso.onStop(() => other.close());
  key = await loadSessionKey(sso.gate.config.dataDir);
}, 60_000);

interface Started {
  /** the browser's login cookie, as a Cookie header */
  readonly cookie: string;
  /** what the gate sealed in it */
  readonly sealed: Record<string, unknown>;
  /** the gate's authorization request to the IdP */
  readonly authorize: URL;
  /** where the IdP sent the browser back, not yet requested: code, state, iss */
  readonly callback: URL;
}

/** A browser starts a login at the gate and signs in at the IdP; it stops before calling the gate back. */
async function started(user: string): Promise<Started> {
  const login = await send(sso.gate.url, { path: '/zot/auth/login?provider=oidc' });
  expect(login.status).toBe(302);
  const token = (login.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${LOGIN_COOKIE}=`))!.split(';')[0]!.slice(LOGIN_COOKIE.length + 1);
  const sealed = await unseal(token, key, new Date());
  expect(sealed).not.toBeNull();
  const authorize = new URL(login.headers.location!);
  const atIdp = await signIn(sso.gate.url, user, authorize.href, { stopAt: (url) => url.pathname === CALLBACK });
  expect(atIdp.stoppedAt?.searchParams.get('code')).toBeTruthy();
  return { cookie: `${LOGIN_COOKIE}=${token}`, sealed: sealed as Record<string, unknown>, authorize, callback: atIdp.stoppedAt! };
}

function callBack(url: URL, cookie: string): Promise<RawResponse> {
  return send(sso.gate.url, { path: `${url.pathname}${url.search}`, headers: { cookie } });
}

const setsSession = (response: RawResponse) => (response.headers['set-cookie'] ?? []).some((c) => c.startsWith('session='));

/** The one line the gate logged for a refused callback. */
function refusalOf(response: RawResponse): Record<string, unknown> | undefined {
  return sso.gate.logs.find((line) => line.reqId === response.headers['x-request-id'] && line.msg === 'login callback refused');
}

function expectRefused(response: RawResponse, problem: RegExp): void {
  expect(response.status).toBe(400);
  expect(response.body).toContain(FAILED);
  expect(setsSession(response)).toBe(false);
  expect(refusalOf(response)).toMatchObject({ reason: 'login-failed', problem: expect.stringMatching(problem) });
}

/** The gate's own client, straight at the IdP's token endpoint: what a thief of the code and of the client secret could do. */
async function exchange(code: string, verifier?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: `${sso.gate.url}${CALLBACK}` });
  if (verifier !== undefined) form.set('code_verifier', verifier);
  const response = await fetch(`${sso.idp.issuer}/token`, {
    method: 'POST',
    headers: { authorization: basic(encodeURIComponent(sso.idp.clientId), encodeURIComponent(sso.idp.clientSecret)), 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('state: bound to the browser that started the login', () => {
  it("a callback with another browser's code and state, sent with this browser's login cookie, is refused before the IdP; the other browser still signs in", async () => {
    const victim = await started('alice');
    const attacker = await started('bob');
    const before = await sso.idp.tokenRequests();
    // login CSRF: the attacker's callback URL, opened in the victim's browser; not the login its cookie holds
    const refused = await callBack(attacker.callback, victim.cookie);
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('This sign-in link is no longer valid. Start again.');
    expect(setsSession(refused)).toBe(false);
    expect(refusalOf(refused)).toMatchObject({ reason: 'login-expired' });
    expect(await sso.idp.tokenRequests()).toBe(before);

    const own = await callBack(attacker.callback, attacker.cookie);
    expect(own.status).toBe(302);
    expect(setsSession(own)).toBe(true);
  }, 30_000);
});

describe('PKCE (S256)', () => {
  it("the authorization request carries the S256 challenge of the verifier sealed in the browser's login cookie, and never the verifier", async () => {
    const login = await started('carol');
    const verifier = login.sealed.verifier as string;
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(login.authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(login.authorize.searchParams.get('code_challenge')).toBe(createHash('sha256').update(verifier).digest('base64url'));
    expect(login.authorize.href).not.toContain(verifier);
    expect(login.callback.href).not.toContain(verifier);
  }, 30_000);

  it("the code is worthless without the verifier, even with the gate's client secret: invalid_grant; the gate, holding the verifier, signs in with it", async () => {
    const login = await started('carol');
    const code = login.callback.searchParams.get('code')!;
    const without = await exchange(code);
    expect([without.status, without.body.error]).toEqual([400, 'invalid_grant']);
    const wrong = await exchange(code, randomBytes(32).toString('base64url'));
    expect([wrong.status, wrong.body.error]).toEqual([400, 'invalid_grant']);

    const gateSignsIn = await callBack(login.callback, login.cookie);
    expect(gateSignsIn.status).toBe(302);
    expect(setsSession(gateSignsIn)).toBe(true);
  }, 30_000);
});

describe('nonce', () => {
  it("an ID token whose nonce is not the one sealed in the browser's login cookie is refused: no session", async () => {
    const login = await started('bob');
    const { iat: _iat, exp: _exp, ...fields } = login.sealed;
    // The same login (state, verifier) but another nonce: as if the ID token had been made for another login.
    const forged = await seal({ ...fields, nonce: randomBytes(32).toString('base64url') }, key, new Date(), 600_000);
    const before = await sso.idp.tokenRequests();
    const refused = await callBack(login.callback, `${LOGIN_COOKIE}=${forged}`);
    expectRefused(refused, /nonce/);
    // The code was exchanged: it is the ID token that was refused.
    expect(await sso.idp.tokenRequests()).toBe(before + 1);
  }, 30_000);
});

describe('issuer', () => {
  it.each([
    ["another provider's issuer", () => other.issuer],
    ['none', () => null],
  ])('an authorization response whose iss (RFC 9207) is %s is refused before the IdP', async (_name, iss) => {
    const login = await started('alice');
    const url = new URL(login.callback);
    expect(url.searchParams.get('iss')).toBe(sso.idp.issuer);
    const given = iss();
    if (given === null) url.searchParams.delete('iss');
    else url.searchParams.set('iss', given);
    const before = await sso.idp.tokenRequests();
    expectRefused(await callBack(url, login.cookie), /iss/);
    expect(await sso.idp.tokenRequests()).toBe(before);
  }, 30_000);

  it("an ID token from the configured token endpoint but issued under another name is refused (the token's iss claim)", async () => {
    // Same port, keys, client and secret, another name: what the gate discovered no longer signs as itself.
    const renamed = `http://localhost:${sso.idp.port}`;
    await sso.idp.restartAs(renamed);
    try {
      const login = await started('carol');
      expect(login.callback.searchParams.get('iss')).toBe(renamed);
      // Let the response parameter name the expected issuer, so that only the ID token can tell.
      const url = new URL(login.callback);
      url.searchParams.set('iss', sso.idp.issuer);
      expectRefused(await callBack(url, login.cookie), /iss/);
      expect(await sso.idp.tokenRequests()).toBe(1);
    } finally {
      await sso.idp.restart();
    }
  }, 60_000);
});
