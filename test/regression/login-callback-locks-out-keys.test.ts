/**
 * A page on another site locked its visitor's address out of every
 * credentialed pull and push.
 *
 * The attack: a page with 31 `<img src="https://registry/zot/auth/callback/x?i=N">`.
 * The visitor's browser sends 31 GETs to the login callback without the login
 * cookie (it is SameSite=Lax and scoped to the callback path: not sent with a
 * cross-site image, and absent unless a login is under way). Since the
 * login-callback throttling fix every refused callback counted as a failed
 * authentication of the client's address — `login-expired` too (no login
 * cookie, a bad seal, an unknown or another provider's callback; even on a
 * gate with no OpenID provider at all). The 30th locked the address, and the
 * address lock is checked first for every credential: the visitor's real API
 * key got 429 at `/v2/` and `/zot/auth/token`, for a minute, renewable,
 * doubling to an hour. Anyone behind the same NAT could do it with curl.
 *
 * Now only a callback that carries a login — the gate's sealed login cookie
 * for this provider, and that cookie's own `state` — is an attempt at one and
 * counts (a replayed state, a failed code exchange: see
 * login-state-replay.test.ts, which still locks). Anything else is
 * `login-expired`: the "start again" page and one log line, never counted,
 * and no audit event (it is no login attempt, and an fsynced audit line per
 * cookie-less GET would let any page write the audit trail).
 *
 * Real Chromium (the attacker page on http://localhost:…, another site than
 * the gate on http://127.0.0.1:…), real OIDC provider, real registry; the
 * HTTP cases use X-Forwarded-For from loopback (a trusted proxy by default)
 * to stand for a client address each.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrowser, type Browser } from '../harness/browser.js';
import { startIdp, type Idp } from '../harness/idp.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { basic, ociBody, send, type RawResponse } from '../support/http.js';
import { registryOps } from '../support/registry-ops.js';
import { testIdpAuth } from '../support/sso.js';

const REPO = 'team/app';
const BLOB = 'a layer only ci may read';
const LOGIN_COOKIE = 'zot_gate_login';
const EXPIRED = 'This sign-in link is no longer valid. Start again.';
const accessControl = { repositories: { '**': { policies: [{ groups: ['ci'], actions: ['read', 'create'] }] } } };
/** more than the default address limit (30 failures in the window) */
const CALLBACKS = 40;

let idp: Idp;
let registry: Registry;
let browser: Browser;
/** signs in with the test IdP; the default throttle (30 failures from an address lock it) */
let withIdp: GateUnderTest;
/** no OpenID provider configured at all */
let withoutIdp: GateUnderTest;
const keys = new Map<GateUnderTest, string>();
let digest = '';
let attacker: Server;
let attackerPage = '';

beforeAll(async () => {
  [idp, registry, browser] = await Promise.all([startIdp(), startRegistry(), startBrowser()]);
  withIdp = await startGate({ upstream: registry.url, accessControl, extra: { auth: testIdpAuth(idp) } });
  withoutIdp = await startGate({ upstream: registry.url, accessControl });
  for (const gate of [withIdp, withoutIdp]) {
    keys.set(gate, (await gate.store.create({ owner: 'ci', label: 'runner', expiresAt: null, scopes: [], groups: ['ci'] })).key);
  }
  digest = await registryOps(registry.url).putBlob(REPO, BLOB);
  // The page: CALLBACKS images at the gate's callback (a query apiece, so none is served from the image cache); it counts them settled.
  attacker = createServer((request, response) => {
    const target = new URL(request.url ?? '/', 'http://localhost').searchParams.get('gate') ?? '';
    const images = Array.from({ length: CALLBACKS }, (_, i) => `<img src="${target}/zot/auth/callback/x?i=${i}" onload="settle()" onerror="settle()">`).join('');
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><title>cute cats</title><script>window.settled = 0; function settle() { window.settled++ }</script>${images}`);
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerPage = `http://localhost:${(attacker.address() as AddressInfo).port}/`;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  attacker?.closeAllConnections();
  await new Promise((resolve) => attacker?.close(resolve));
  await withoutIdp?.stop();
  await withIdp?.stop();
  await registry?.stop();
  await idp?.close();
});

const get = (gate: GateUnderTest, path: string, headers: Record<string, string>): Promise<RawResponse> => send(gate.url, { path, headers });

/** The key of `gate`'s ci user from `from` (X-Forwarded-For; none: 127.0.0.1 itself): /v2/, a token, a pull — each 200. */
async function expectKeyWorks(gate: GateUnderTest, from?: string): Promise<void> {
  const headers = { authorization: basic('ci', keys.get(gate)!), ...(from === undefined ? {} : { 'x-forwarded-for': from }) };
  const base = await get(gate, '/v2/', headers);
  expect(base.status, base.body).toBe(200);
  const token = await get(gate, `/zot/auth/token?service=${gate.host}&scope=repository:${REPO}:pull,push`, headers);
  expect(token.status, token.body).toBe(200);
  expect(token.json<{ token: string }>().token).toMatch(/^ey/);
  const pull = await get(gate, `/v2/${REPO}/blobs/${digest}`, headers);
  expect(pull.status, pull.body).toBe(200);
  expect(pull.body).toBe(BLOB);
}

describe('a page on another site with 40 <img> at the login callback, opened in the browser of a CI key holder', () => {
  it.each([
    ['signing in with an IdP', () => withIdp],
    ['with no OpenID provider configured', () => withoutIdp],
  ])('%s: every image gets its answer, and the key still pulls and pushes from that address', async (_name, gateOf) => {
    const gate = gateOf();
    const callback = `${gate.url}/zot/auth/callback/`;
    const sent: Array<Record<string, string>> = [];
    const page = await browser.newPage();
    try {
      page.on('request', (request) => {
        if (request.url().startsWith(callback)) sent.push(request.headers());
      });
      await page.goto(`${attackerPage}?gate=${encodeURIComponent(gate.url)}`);
      // Each image settles as an error: the answer is HTML (Chromium's ORB blocks it), after it reached the gate.
      await page.waitForFunction(`window.settled === ${CALLBACKS}`, undefined, { timeout: 30_000 });
    } finally {
      await page.close();
    }
    // The attack is real: the browser sent them all, without any cookie, from another site.
    expect(sent).toHaveLength(CALLBACKS);
    expect(sent.every((headers) => headers.cookie === undefined && headers.referer?.startsWith('http://localhost:'))).toBe(true);
    // The gate answered each with its page; none was refused as locked.
    const answered = gate.logs.filter((line) => line.msg === 'request' && String(line.url).startsWith('/zot/auth/callback/')).map((line) => line.status);
    expect(answered).toEqual(Array<number>(CALLBACKS).fill(400));
    await expectKeyWorks(gate);
  }, 60_000);
});

describe('40 callbacks over HTTP from one address, each without a login of its own', () => {
  // A real login cookie, from an address of its own (one address may have only 20 logins under way).
  let started = 0;
  const fresh = async (): Promise<string> => {
    const login = await send(withIdp.url, { path: '/zot/auth/login?provider=oidc', headers: { 'x-forwarded-for': `192.0.2.${++started}` } });
    expect(login.status).toBe(302);
    return (login.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${LOGIN_COOKIE}=`))!.split(';')[0]!;
  };

  it.each<[string, () => GateUnderTest, string, () => Promise<Record<string, string>>, string]>([
    ['no login cookie', () => withIdp, '/zot/auth/callback/oidc?code=c&state=s', async () => ({}), '198.51.100.1'],
    ['an unknown provider', () => withIdp, '/zot/auth/callback/x?code=c&state=s', async () => ({}), '198.51.100.2'],
    ['a login cookie the gate did not seal', () => withIdp, '/zot/auth/callback/oidc?code=c&state=s', async () => ({ cookie: `${LOGIN_COOKIE}=not-a-sealed-login` }), '198.51.100.3'],
    ["a real login cookie at another provider's callback", () => withIdp, '/zot/auth/callback/x?code=c&state=s', async () => ({ cookie: await fresh() }), '198.51.100.4'],
    ["a real login cookie with a state that is not its own (an image can't read the state)", () => withIdp, '/zot/auth/callback/oidc?code=c&state=not-its-state', async () => ({ cookie: await fresh() }), '198.51.100.5'],
    ['a gate with no OpenID provider', () => withoutIdp, '/zot/auth/callback/oidc?code=c&state=s', async () => ({}), '198.51.100.6'],
  ])('%s: 400 "start again" each time, no audit event; the key still works from that address', async (_name, gateOf, path, headersOf, from) => {
    const gate = gateOf();
    const before = await idp.tokenRequests();
    for (let i = 0; i < CALLBACKS; i++) {
      const response = await get(gate, path, { ...(await headersOf()), 'x-forwarded-for': from });
      expect(response.status, response.body).toBe(400);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.body).toContain(EXPIRED);
      const id = response.headers['x-request-id'];
      const lines = gate.logs.filter((line) => line.reqId === id && line.msg !== 'request' && line.msg !== 'audit');
      expect(lines).toEqual([expect.objectContaining({ msg: 'login callback refused', reason: 'login-expired', level: 'info' })]);
      expect(gate.logs.filter((line) => line.audit === true && line.requestId === id)).toEqual([]);
    }
    expect(await idp.tokenRequests()).toBe(before);
    await expectKeyWorks(gate, from);
  }, 60_000);
});

describe('an attempt at a login still counts', () => {
  it("replays of one real login's state, with its cookie: each 400 until the 30th, which locks the address, keys too", async () => {
    const from = '198.51.100.9';
    const login = await send(withIdp.url, { path: '/zot/auth/login?provider=oidc', headers: { 'x-forwarded-for': from } });
    const cookie = (login.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${LOGIN_COOKIE}=`))!.split(';')[0]!;
    const state = new URL(login.headers.location!).searchParams.get('state')!;
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      statuses.push((await get(withIdp, `/zot/auth/callback/oidc?code=made-up&state=${state}&iss=${encodeURIComponent(idp.issuer)}`, { cookie, 'x-forwarded-for': from })).status);
    }
    expect(statuses).toEqual([...Array<number>(29).fill(400), 429]);
    const key = await get(withIdp, '/v2/', { authorization: basic('ci', keys.get(withIdp)!), 'x-forwarded-for': from });
    expect(key.status).toBe(429);
    expect(key.json()).toEqual(ociBody('TOOMANYREQUESTS', 'too many failed authentications from this address; try again later', 'address-locked'));
  }, 60_000);
});
