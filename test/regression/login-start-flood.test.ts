/**
 * Flooding login starts to deny a victim's sign-in.
 *
 * The attack: `GET /zot/auth/login` needs no authentication, and each one
 * adds a state to the gate's memory of outstanding logins (at most 100,000,
 * the oldest pushed out first; sso/login-states.ts). About 100,000 starts
 * from one client while a victim is at the IdP pushed the victim's state out:
 * its callback failed ("start again"), and so did every sign-in for as long
 * as the flood went on — all from one address, at no cost but requests.
 *
 * Now one address may hold at most 20 outstanding logins (started, neither
 * called back nor lapsed); beyond them a start is refused before anything is
 * made or stored: 429 with `Retry-After` (when its oldest lapses) and a page
 * saying so. A login called back frees its place at once. So the memory can
 * only be churned from thousands of addresses, and a victim's sign-in from
 * another address is untouched.
 *
 * Addresses: X-Forwarded-For from loopback (a trusted proxy by default)
 * stands for each attacker's address; the victim signs in from 127.0.0.1.
 * Real gate, real registry, real OIDC provider.
 */
import { describe, expect, it } from 'vitest';
import { send, type RawResponse } from '../support/http.js';
import { signIn } from '../support/sign-in.js';
import { useSsoGate } from '../support/sso-gate.js';

const LOGIN = '/zot/auth/login?provider=oidc';
const CALLBACK = '/zot/auth/callback/oidc';
const LOGIN_COOKIE = 'zot_gate_login';
const LIMIT = 20;
const REFUSED = 'Too many sign-ins were started from your address and not finished. Finish one of them, or try again in 10 minutes.';

const sso = useSsoGate({ accessControl: { repositories: { '**': { anonymousPolicy: ['read'] } } } });

const start = (from: string): Promise<RawResponse> => send(sso.gate.url, { path: LOGIN, headers: { 'x-forwarded-for': from } });
const loginCookie = (response: RawResponse) => (response.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${LOGIN_COOKIE}=`))?.split(';')[0];

function expectRefused(response: RawResponse): void {
  expect(response.status).toBe(429);
  const retryAfter = Number(response.headers['retry-after']);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(600);
  expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(response.body).toContain('<h1>Too many sign-ins</h1>');
  expect(response.body).toContain(REFUSED);
  expect(response.headers.location).toBeUndefined();
  expect(loginCookie(response)).toBeUndefined();
}

describe('120 login starts from one address while a victim is at the IdP', () => {
  it('the first 20 go to the IdP, the other 100 are refused 429; the victim still signs in', async () => {
    const victim = await signIn(sso.gate.url, 'alice', `${sso.gate.url}${LOGIN}`, { stopAt: (url) => url.pathname === CALLBACK });
    expect(victim.stoppedAt).toBeDefined();

    const responses: RawResponse[] = [];
    for (let i = 0; i < 120; i++) responses.push(await start('198.51.100.7'));
    for (const started of responses.slice(0, LIMIT)) {
      expect(started.status).toBe(302);
      expect(started.headers.location).toMatch(new RegExp(`^${sso.idp.issuer}/`));
      expect(loginCookie(started)).toBeDefined();
    }
    for (const refused of responses.slice(LIMIT)) expectRefused(refused);
    const logged = sso.gate.logs.filter((line) => line.msg === 'login start refused');
    expect(logged).toHaveLength(100);
    expect(logged[0]).toMatchObject({ level: 'info', provider: 'oidc', reason: 'too-many-logins' });

    const callback = victim.stoppedAt!;
    const done = await send(sso.gate.url, { path: `${callback.pathname}${callback.search}`, headers: { cookie: `${LOGIN_COOKIE}=${victim.cookies.get(LOGIN_COOKIE)!}` } });
    expect(done.status).toBe(302);
    expect(done.headers['set-cookie']?.some((c) => c.startsWith('session='))).toBe(true);
    // and a whole new sign-in from the victim's address
    const again = await signIn(sso.gate.url, 'alice');
    expect(again.status).toBe(200);
    expect(again.cookies.has('session')).toBe(true);
  }, 60_000);

  it('each other address has its own 20', async () => {
    for (const from of ['198.51.100.20', '198.51.100.21', '198.51.100.22']) {
      for (let i = 0; i < LIMIT; i++) expect((await start(from)).status).toBe(302);
      expectRefused(await start(from));
    }
  }, 60_000);
});

describe('a login called back frees its place', () => {
  it('with 20 outstanding the 21st is refused; after one callback (even a failed one) the next starts, and the one after is refused', async () => {
    const from = '198.51.100.8';
    const first = await start(from);
    for (let i = 1; i < LIMIT; i++) expect((await start(from)).status).toBe(302);
    expectRefused(await start(from));

    const state = new URL(first.headers.location!).searchParams.get('state')!;
    const query = new URLSearchParams({ code: 'made-up', state, iss: sso.idp.issuer });
    const called = await send(sso.gate.url, { path: `${CALLBACK}?${query}`, headers: { cookie: loginCookie(first)!, 'x-forwarded-for': from } });
    expect(called.status).toBe(400);

    expect((await start(from)).status).toBe(302);
    expectRefused(await start(from));
  }, 60_000);
});
