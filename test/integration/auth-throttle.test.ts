/**
 * Issue 8 item 2: failed-authentication throttling, against a real gate in
 * front of the real registry.
 *
 * The attack: guess credentials as fast as the gate answers, from one address
 * or spread over many against one username. The defence: after
 * `maxFailures` failures from an address (or `usernameMaxFailures` for one
 * username, from addresses it never authenticated from) every request with
 * credentials from there is answered 429 `TOOMANYREQUESTS` with `Retry-After`
 * until the lock ends — an address lock before credentials are checked, so a
 * right guess is refused too; a username lock only after a wrong key, so the
 * user's right key is never refused by it (issue 12) — and a repeated address
 * lock lasts twice as long. Failures beyond `delayAfter` wait twice as long
 * each. Anonymous pulls, other addresses and the user's known addresses are
 * untouched.
 *
 * Client addresses are simulated with X-Forwarded-For, which the gate trusts
 * from loopback only (`trustProxy: 'loopback'`), as behind Caddy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../harness/process.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { basic, ociError, send, type RawResponse } from '../support/http.js';
import { samplesOf } from '../support/metrics.js';
import { registryOps } from '../support/registry-ops.js';

const REPO = 'throttle/app';
const BLOB = 'a layer the anonymous may read';
const accessControl = {
  repositories: { '**': { anonymousPolicy: ['read'], policies: [{ groups: ['ci'], actions: ['read', 'create'] }] } },
  metrics: { anonymousPolicy: ['read'] },
};
// Short enough to watch a lock end; no delays on this gate (failDelay 0).
const throttle = { window: '1m', delayAfter: 100, maxFailures: 4, usernameMaxFailures: 6, lockFor: '2s', maxLockFor: '4s' };

let registry: Registry;
let gate: GateUnderTest;
let digest: string;
const keys = { ci: '', deploy: '' };

const wrongKey = (n: number) => `zak_${n.toString(16).padStart(32, '0')}`;
const blobPath = () => `/v2/${REPO}/blobs/${digest}`;

interface Call {
  readonly from: string;
  readonly auth?: string;
  readonly method?: string;
}

function call(target: GateUnderTest, path: string, { from, auth, method = 'GET' }: Call): Promise<RawResponse> {
  return send(target.url, { method, path, headers: { 'x-forwarded-for': from, ...(auth === undefined ? {} : { authorization: auth }) } });
}

const ADDRESS_LOCKED = {
  errors: [{ code: 'TOOMANYREQUESTS', message: 'too many failed authentications from this address; try again later', detail: { reason: 'address-locked' } }],
};
const INVALID = { code: 'UNAUTHORIZED', message: 'invalid credentials', detail: { reason: 'invalid-credentials' } };

function expectLocked(response: RawResponse, body: unknown, retryAfter: readonly string[]): void {
  expect(response.status, response.body).toBe(429);
  expect(response.json()).toEqual(body);
  expect(retryAfter).toContain(response.headers['retry-after']);
  expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(response.headers['www-authenticate']).toBeUndefined();
}

/** Sends `count` failures with `auth(i)` from `from`, expecting 401 each. */
async function failures(path: string, from: string, count: number, auth: (i: number) => string): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await call(gate, path, { from, auth: auth(i) });
    expect(response.status, response.body).toBe(401);
    expect(ociError(response)).toEqual(INVALID);
  }
}

/** One sample per `name{labels}` of the families named. */
async function scrape(target: GateUnderTest, ...families: string[]): Promise<Record<string, number>> {
  const response = await send(target.url, { path: '/-/metrics' });
  expect(response.status).toBe(200);
  return samplesOf(response.body, ...families);
}

const THROTTLE_FAMILIES = ['zot_gate_auth_throttled_total', 'zot_gate_auth_locks_total'];

function throttleLines(target: GateUnderTest): unknown[] {
  return target.logs.filter((line) => line.msg === 'authentication throttled').map((line) => ({ level: line.level, throttle: line.throttle }));
}

beforeAll(async () => {
  registry = await startRegistry();
  gate = await startGate({ upstream: registry.url, accessControl, extra: { auth: { failDelay: 0, throttle } } });
  for (const owner of ['ci', 'deploy'] as const) {
    keys[owner] = (await gate.store.create({ owner, label: 'throttle', expiresAt: null, scopes: [], groups: ['ci'] })).key;
  }
  digest = await registryOps(registry.url).putBlob(REPO, BLOB);
}, 60_000);

afterAll(async () => {
  await gate?.stop();
  await registry?.stop();
});

describe('per client address, at the registry', () => {
  const attacker = '203.0.113.10';
  let lockedAt = 0;

  it('brute-forcing Basic credentials gets 401 three times, then 429 with Retry-After; counted and logged, no secret logged', async () => {
    const before = await scrape(gate, ...THROTTLE_FAMILIES);
    gate.logs.length = 0;
    await failures(blobPath(), attacker, 3, (i) => basic('mallory', wrongKey(i)));
    const fourth = await call(gate, blobPath(), { from: attacker, auth: basic('mallory', wrongKey(3)) });
    lockedAt = Date.now();
    expectLocked(fourth, ADDRESS_LOCKED, ['2']);
    // a right key from the locked address is refused too, before it is checked: no oracle
    expectLocked(await call(gate, blobPath(), { from: attacker, auth: basic('ci', keys.ci) }), ADDRESS_LOCKED, ['1', '2']);

    expect(await scrape(gate, ...THROTTLE_FAMILIES)).toEqual({
      ...before,
      'zot_gate_auth_throttled_total{scope="address"}': before['zot_gate_auth_throttled_total{scope="address"}']! + 2,
      'zot_gate_auth_locks_total{scope="address"}': before['zot_gate_auth_locks_total{scope="address"}']! + 1,
    });
    expect(throttleLines(gate)).toEqual([
      { level: 'warn', throttle: { scope: 'address', address: attacker, username: 'mallory', retryAfter: 2, started: true } },
      { level: 'warn', throttle: { scope: 'address', address: attacker, username: 'ci', retryAfter: expect.any(Number), started: false } },
    ]);
    const logged = JSON.stringify(gate.logs);
    for (const secret of [keys.ci, wrongKey(0), wrongKey(3)]) expect(logged).not.toContain(secret);
  });

  it('anonymous pulls from the locked address keep working', async () => {
    const response = await call(gate, blobPath(), { from: attacker });
    expect(response.status).toBe(200);
    expect(response.body).toBe(BLOB);
  });

  it('a valid API key from another address keeps working', async () => {
    const response = await call(gate, blobPath(), { from: '203.0.113.11', auth: basic('ci', keys.ci) });
    expect(response.status, response.body).toBe(200);
    expect(response.body).toBe(BLOB);
  });

  it('the lock ends after lockFor; a repeated lock lasts twice as long', async () => {
    await new Promise((resolve) => setTimeout(resolve, lockedAt + 2_100 - Date.now()));
    const freed = await call(gate, blobPath(), { from: attacker, auth: basic('ci', keys.ci) });
    expect(freed.status, freed.body).toBe(200);
    // another name: 'mallory' has 4 failures against it already, and usernameMaxFailures is 6
    await failures(blobPath(), attacker, 3, (i) => basic('mallory-again', wrongKey(10 + i)));
    expectLocked(await call(gate, blobPath(), { from: attacker, auth: basic('mallory-again', wrongKey(13)) }), ADDRESS_LOCKED, ['4']);
  });

  it('failures count together wherever credentials are checked: registry, token endpoint, API keys, /-/metrics', async () => {
    const from = '203.0.113.40';
    const auth = basic('mallory-everywhere', wrongKey(40));
    for (const path of [blobPath(), '/zot/auth/token?service=x', '/zot/auth/apikey']) {
      expect((await call(gate, path, { from, auth })).status).toBe(401);
    }
    expectLocked(await call(gate, '/-/metrics', { from, auth }), ADDRESS_LOCKED, ['2']);
  });
});

describe('per username, across addresses', () => {
  const home = '192.0.2.50';
  const USERNAME_LOCKED = {
    errors: [{ code: 'TOOMANYREQUESTS', message: 'too many failed authentications for user "deploy"; try again later', detail: { reason: 'username-locked' } }],
  };

  it('guesses at one user spread over addresses lock the user, though no address reached its own limit', async () => {
    expect((await call(gate, blobPath(), { from: home, auth: basic('deploy', keys.deploy) })).status).toBe(200);
    const before = await scrape(gate, ...THROTTLE_FAMILIES);
    const attackers = ['198.51.100.1', '198.51.100.2', '198.51.100.3'];
    for (const [i, from] of attackers.entries()) {
      const count = i < 2 ? 2 : 1;
      await failures(blobPath(), from, count, (n) => basic('deploy', wrongKey(100 + i * 10 + n)));
    }
    expectLocked(await call(gate, blobPath(), { from: '198.51.100.3', auth: basic('deploy', wrongKey(199)) }), USERNAME_LOCKED, ['2']);
    // a wrong key from an address deploy has not authenticated from meets the lock; the right key passes it (issue 12)
    expectLocked(await call(gate, blobPath(), { from: '192.0.2.51', auth: basic('deploy', wrongKey(198)) }), USERNAME_LOCKED, ['1', '2']);
    expect((await call(gate, blobPath(), { from: '192.0.2.52', auth: basic('deploy', keys.deploy) })).status).toBe(200);
    expect(await scrape(gate, ...THROTTLE_FAMILIES)).toEqual({
      ...before,
      'zot_gate_auth_throttled_total{scope="username"}': before['zot_gate_auth_throttled_total{scope="username"}']! + 2,
      'zot_gate_auth_locks_total{scope="username"}': before['zot_gate_auth_locks_total{scope="username"}']! + 1,
    });
  });

  it('the user keeps working from the address it last authenticated from', async () => {
    const response = await call(gate, blobPath(), { from: home, auth: basic('deploy', keys.deploy) });
    expect(response.status, response.body).toBe(200);
  });

  it('other users from the attacking addresses, and anonymous pulls, are not locked', async () => {
    expect((await call(gate, blobPath(), { from: '198.51.100.1', auth: basic('ci', keys.ci) })).status).toBe(200);
    expect((await call(gate, blobPath(), { from: '192.0.2.51' })).status).toBe(200);
  });
});

describe('the token endpoint and /zot/auth/apikey are throttled too', () => {
  it('GET /zot/auth/token: 401 three times, then 429; a token without credentials is still issued', async () => {
    const from = '203.0.113.20';
    const path = '/zot/auth/token?service=x';
    await failures(path, from, 3, (i) => basic('mallory-token', wrongKey(20 + i)));
    expectLocked(await call(gate, path, { from, auth: basic('mallory-token', wrongKey(23)) }), ADDRESS_LOCKED, ['2']);
    expectLocked(await call(gate, path, { from, auth: basic('ci', keys.ci) }), ADDRESS_LOCKED, ['1', '2']);
    const anonymous = await call(gate, path, { from });
    expect(anonymous.status).toBe(200);
    expect(anonymous.json<{ token: string }>().token).toMatch(/^ey/);
    expect((await call(gate, path, { from: '203.0.113.21', auth: basic('ci', keys.ci) })).status).toBe(200);
  });

  it('GET /zot/auth/apikey: 401 three times, then 429 for any credentials from there', async () => {
    const from = '203.0.113.30';
    const path = '/zot/auth/apikey';
    await failures(path, from, 3, (i) => basic('mallory-apikey', wrongKey(30 + i)));
    expectLocked(await call(gate, path, { from, auth: basic('mallory-apikey', wrongKey(33)) }), ADDRESS_LOCKED, ['2']);
    expectLocked(await call(gate, path, { from, auth: basic('ci', keys.ci) }), ADDRESS_LOCKED, ['1', '2']);
    const elsewhere = await call(gate, path, { from: '203.0.113.31', auth: basic('ci', keys.ci) });
    expect(elsewhere.status, elsewhere.body).toBe(200);
    expect(elsewhere.json<{ apiKeys: Array<{ label: string }> }>().apiKeys.map((k) => k.label)).toEqual(['throttle']);
  });
});

describe('backoff: failDelay doubles beyond delayAfter; success never waits', () => {
  let slow: GateUnderTest;
  let key = '';

  beforeAll(async () => {
    slow = await startGate({
      upstream: registry.url,
      accessControl,
      extra: { auth: { failDelay: 0.5, throttle: { ...throttle, delayAfter: 1, maxFailures: 3 } } },
    });
    key = (await slow.store.create({ owner: 'ci', label: 'slow', expiresAt: null, scopes: [], groups: ['ci'] })).key;
  });
  afterAll(async () => slow?.stop());

  const timed = async (auth: string): Promise<[RawResponse, number]> => {
    const started = performance.now();
    const response = await call(slow, blobPath(), { from: '203.0.113.60', auth });
    return [response, performance.now() - started];
  };

  it('waits 0.5 s, then 1 s; a right key between them answers at once; the lock answers at once', async () => {
    const [first, firstMs] = await timed(basic('mallory', wrongKey(60)));
    expect([first.status, firstMs >= 500]).toEqual([401, true]);
    const [second, secondMs] = await timed(basic('mallory', wrongKey(61)));
    expect([second.status, secondMs >= 1_000]).toEqual([401, true]);
    const [good, goodMs] = await timed(basic('ci', key));
    expect([good.status, goodMs < 500]).toEqual([200, true]);
    const [third, thirdMs] = await timed(basic('mallory', wrongKey(62)));
    expect([third.status, thirdMs < 500]).toEqual([429, true]);
  });
});

describe('/-/metrics with throttling in it', () => {
  it('passes promtool check metrics, lint included', async () => {
    const response = await send(gate.url, { path: '/-/metrics' });
    expect(response.body).toContain('zot_gate_auth_throttled_total{scope="address"}');
    const result = await run('promtool', ['check', 'metrics'], { input: response.body, timeoutMs: 20_000 });
    expect({ code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});
