/**
 * Replaying one login's state to make the gate call the IdP, over and over.
 *
 * The attack: one anonymous `GET /zot/auth/login` gives anyone a sealed login
 * cookie and the `state` it holds. Sending that cookie to
 * `/zot/auth/callback/oidc` with the state and any made-up `code`, again and
 * again, made the gate send one token request per callback to the IdP — with
 * its client secret — (50 in 266 ms), each failure unthrottled, with an
 * fsynced audit line and a stack trace in the log: the gate as an amplifier
 * against its own IdP, and a log flood.
 *
 * Now a state is single-use on the server: the gate remembers the states of
 * logins it started (bounded, for the login cookie's lifetime) and a callback
 * spends its state before anything else, so a replay answers 400 with a clear
 * page and never reaches the IdP. A refused callback counts as a failed
 * authentication of the client's address (the throttle's delay and lock,
 * 429 once locked), and logs one line without a stack.
 * Real gate, real registry, real OIDC provider (its token endpoint counts
 * the requests that reach it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdp, type Idp } from '../harness/idp.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { ociBody, send, type RawResponse } from '../support/http.js';
import { signIn } from '../support/sign-in.js';
import { testIdpAuth } from '../support/sso.js';

const CALLBACK = '/zot/auth/callback/oidc';
const LOGIN_COOKIE = 'zot_gate_login';
const REPLAYED = 'This sign-in link was already used, or has expired. Start again.';
const FAILED = 'The sign-in could not be completed. Start again.';
const ADDRESS_LOCKED = ociBody('TOOMANYREQUESTS', 'too many failed authentications from this address; try again later', 'address-locked');

let idp: Idp;
let registry: Registry;
/** the throttle's locks off: every callback reaches the code that decides it */
let open: GateUnderTest;
/** the address lock after 3 failures */
let strict: GateUnderTest;

const gateWith = (throttle: Record<string, unknown>) =>
  startGate({
    upstream: registry.url,
    accessControl: { repositories: { '**': { anonymousPolicy: ['read'] } } },
    extra: { auth: testIdpAuth(idp, { throttle }) },
  });

beforeAll(async () => {
  idp = await startIdp();
  registry = await startRegistry();
  open = await gateWith({ maxFailures: 0, usernameMaxFailures: 0, delayAfter: 1000 });
  strict = await gateWith({ maxFailures: 3, delayAfter: 100 });
}, 60_000);

afterAll(async () => {
  await strict?.stop();
  await open?.stop();
  await registry?.stop();
  await idp?.close();
});

/** An anonymous login: the login cookie (as a Cookie header) and the state the IdP would send back. */
async function startLogin(gate: GateUnderTest): Promise<{ cookie: string; state: string }> {
  const response = await send(gate.url, { path: '/zot/auth/login?provider=oidc' });
  expect(response.status).toBe(302);
  const state = new URL(response.headers.location!).searchParams.get('state');
  const set = (response.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${LOGIN_COOKIE}=`));
  expect(state).not.toBeNull();
  expect(set).toBeDefined();
  return { cookie: set!.split(';')[0]!, state: state! };
}

function callback(gate: GateUnderTest, cookie: string, state: string, code: string): Promise<RawResponse> {
  const query = new URLSearchParams({ code, state, iss: idp.issuer });
  return send(gate.url, { path: `${CALLBACK}?${query}`, headers: { cookie } });
}

/** What the gate logged for one request, but the request line and the audit line. */
function linesOf(gate: GateUnderTest, response: RawResponse): Array<Record<string, unknown>> {
  const id = response.headers['x-request-id'];
  return gate.logs.filter((line) => line.reqId === id && line.msg !== 'request' && line.msg !== 'audit');
}

describe('one login cookie, 50 callbacks with made-up codes', () => {
  const responses: RawResponse[] = [];

  it('the first reaches the IdP and fails; the 49 replays answer 400 without a token request', async () => {
    const before = await idp.tokenRequests();
    const login = await startLogin(open);
    for (let i = 0; i < 50; i++) responses.push(await callback(open, login.cookie, login.state, `made-up-${i}`));
    expect(responses[0]!.status).toBe(400);
    expect(responses[0]!.body).toContain(FAILED);
    for (const replay of responses.slice(1)) {
      expect(replay.status).toBe(400);
      expect(replay.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(replay.body).toContain(REPLAYED);
      expect(replay.headers['set-cookie']?.some((c) => c.startsWith('session='))).not.toBe(true);
    }
    expect(await idp.tokenRequests()).toBe(before + 1);
  }, 30_000);

  it('each refused callback logs one line, with no error object and no stack', () => {
    for (const response of responses) {
      const lines = linesOf(open, response);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ msg: 'login callback refused', provider: 'oidc' });
      expect(lines[0]).not.toHaveProperty('err');
      expect(JSON.stringify(lines[0])).not.toMatch(/stack|\bat .*\.js:\d+/);
    }
  });

  it('each is one audit line: login denied, the first login-failed, the replays login-state-reused', () => {
    const audit = (response: RawResponse) => open.logs.filter((line) => line.audit === true && line.requestId === response.headers['x-request-id']);
    expect(audit(responses[0]!)).toEqual([expect.objectContaining({ event: 'login', decision: 'deny', reason: 'login-failed', status: 400 })]);
    for (const replay of responses.slice(1)) {
      expect(audit(replay)).toEqual([expect.objectContaining({ event: 'login', decision: 'deny', reason: 'login-state-reused', status: 400 })]);
    }
  });
});

describe('a real sign-in', () => {
  it('signs in once; its callback replayed with the same login cookie is refused before the IdP', async () => {
    const stopped = await signIn(open.url, 'bob', `${open.url}/zot/auth/login?provider=oidc`, { stopAt: (url) => url.pathname === CALLBACK });
    const callbackUrl = stopped.stoppedAt!;
    const cookie = `${LOGIN_COOKIE}=${stopped.cookies.get(LOGIN_COOKIE)!}`;
    const path = `${callbackUrl.pathname}${callbackUrl.search}`;

    const first = await send(open.url, { path, headers: { cookie } });
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe('/');
    expect(first.headers['set-cookie']?.some((c) => c.startsWith('session='))).toBe(true);

    const before = await idp.tokenRequests();
    const replay = await send(open.url, { path, headers: { cookie } });
    expect(replay.status).toBe(400);
    expect(replay.body).toContain(REPLAYED);
    expect(replay.headers['set-cookie']?.some((c) => c.startsWith('session='))).not.toBe(true);
    expect(await idp.tokenRequests()).toBe(before);
  }, 30_000);
});

describe('refused callbacks are failed authentications (maxFailures 3)', () => {
  it('the third locks the address (429); the next is refused before its state is looked at or the IdP called; logins still start', async () => {
    const before = await idp.tokenRequests();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const login = await startLogin(strict);
      const response = await callback(strict, login.cookie, login.state, `made-up-${i}`);
      statuses.push(response.status);
      if (response.status === 429) {
        expect(response.json()).toEqual(ADDRESS_LOCKED);
        expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(statuses).toEqual([400, 400, 429]);
    expect(await idp.tokenRequests()).toBe(before + 3);

    const login = await startLogin(strict);
    const locked = await callback(strict, login.cookie, login.state, 'made-up-3');
    expect(locked.status).toBe(429);
    expect(locked.json()).toEqual(ADDRESS_LOCKED);
    expect(await idp.tokenRequests()).toBe(before + 3);
  }, 30_000);
});
