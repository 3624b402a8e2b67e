/**
 * Regression: the username lock refused valid API keys (issue 12 item 2).
 *
 * The attack (unauthenticated, needs only a username): send 60 wrong
 * `Basic runner:zak_000…` from a few addresses (20 each, under the address
 * limit of 30). The 60th failure locks the username `runner`, and the lock
 * was consulted before the credential was checked: runner's real key, sent
 * from an address runner had not used before (a new CI runner), got 429 for a
 * minute — renewable by anyone, for ever, at the cost of 60 requests a minute.
 *
 * A `zak_` key is 128 random bits and is checked with one hash lookup: the
 * username lock gains nothing by refusing it unchecked. Now such a credential
 * is checked first: a right key passes whatever the username lock says, at the
 * registry, the token endpoint and `/zot/auth/apikey`; a wrong one still meets
 * the lock (429) and still counts against its address. The address lock is
 * unchanged: a locked address is refused before anything is checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type Registry } from '../harness/registry.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { basic, ociBody, ociError, send, type RawResponse } from '../support/http.js';
import { registryOps } from '../support/registry-ops.js';

const REPO = 'runners/app';
const BLOB = 'a layer only CI may read';
const accessControl = { repositories: { '**': { policies: [{ groups: ['ci'], actions: ['read', 'create'] }] } } };

let registry: Registry;
let gate: GateUnderTest;
let key = '';
let digest = '';

const wrongKey = (n: number) => `zak_${n.toString(16).padStart(32, '0')}`;
const get = (path: string, from: string, auth: string): Promise<RawResponse> =>
  send(gate.url, { path, headers: { 'x-forwarded-for': from, authorization: auth } });
const blobPath = () => `/v2/${REPO}/blobs/${digest}`;

const USERNAME_LOCKED = ociBody('TOOMANYREQUESTS', 'too many failed authentications for user "runner"; try again later', 'username-locked');
const ADDRESS_LOCKED = ociBody('TOOMANYREQUESTS', 'too many failed authentications from this address; try again later', 'address-locked');

beforeAll(async () => {
  registry = await startRegistry();
  // The numbers: the default throttle (30 per address, 60 per username, 1m locks); no failDelay, to run fast.
  gate = await startGate({ upstream: registry.url, accessControl, extra: { auth: { failDelay: 0 } } });
  key = (await gate.store.create({ owner: 'runner', label: 'ci', expiresAt: null, scopes: [], groups: ['ci'] })).key;
  digest = await registryOps(registry.url).putBlob(REPO, BLOB);
}, 60_000);

afterAll(async () => {
  await gate?.stop();
  await registry?.stop();
});

describe('60 wrong keys for runner from three addresses', () => {
  it('lock the username: the 60th is answered 429 username-locked', async () => {
    const attackers = ['198.51.100.1', '198.51.100.2', '198.51.100.3'];
    for (let n = 0; n < 59; n++) {
      const response = await get(blobPath(), attackers[n % 3]!, basic('runner', wrongKey(n)));
      expect(response.status, response.body).toBe(401);
      expect(ociError(response).detail.reason).toBe('invalid-credentials');
    }
    const sixtieth = await get(blobPath(), attackers[2]!, basic('runner', wrongKey(59)));
    expect(sixtieth.status, sixtieth.body).toBe(429);
    expect(sixtieth.json()).toEqual(USERNAME_LOCKED);
    expect(sixtieth.headers['retry-after']).toBe('60');
  });

  it("runner's real key from a new address is accepted at the registry", async () => {
    const response = await get(blobPath(), '192.0.2.77', basic('runner', key));
    expect(response.status, response.body).toBe(200);
    expect(response.body).toBe(BLOB);
  });

  it('and at the token endpoint and /zot/auth/apikey, from other new addresses', async () => {
    const token = await get('/zot/auth/token?service=registry.example.org&scope=repository:runners/app:pull', '192.0.2.78', basic('runner', key));
    expect(token.status, token.body).toBe(200);
    expect(token.json<{ token: string }>().token).toMatch(/^ey/);
    const keys = await get('/zot/auth/apikey', '192.0.2.79', basic('runner', key));
    expect(keys.status, keys.body).toBe(200);
    expect(keys.json<{ apiKeys: Array<{ label: string }> }>().apiKeys.map((k) => k.label)).toEqual(['ci']);
  });

  it('a wrong key for runner from a new address is still refused by the username lock', async () => {
    for (const path of [blobPath(), '/zot/auth/token?service=registry.example.org', '/zot/auth/apikey']) {
      const response = await get(path, '192.0.2.80', basic('runner', wrongKey(1000)));
      expect(response.status, `${path}: ${response.body}`).toBe(429);
      expect(response.json()).toEqual(USERNAME_LOCKED);
    }
  });

  it('wrong keys under the locked username still count against their address, which locks at 30', async () => {
    const from = '192.0.2.81';
    for (let n = 0; n < 29; n++) {
      const response = await get(blobPath(), from, basic('runner', wrongKey(2000 + n)));
      expect(response.json()).toEqual(USERNAME_LOCKED);
    }
    const thirtieth = await get(blobPath(), from, basic('runner', wrongKey(2029)));
    expect(thirtieth.json()).toEqual(ADDRESS_LOCKED);
    // the address lock is consulted before anything is checked: the right key is refused there
    const right = await get(blobPath(), from, basic('runner', key));
    expect(right.status).toBe(429);
    expect(right.json()).toEqual(ADDRESS_LOCKED);
  });
});
