/**
 * Regression: behind a balancer every client was one address, and the only
 * cure at hand (believing X-Forwarded-For from anyone, or its leftmost entry)
 * lets a client choose its own address (issue 12 item 13).
 *
 * The gate believed X-Forwarded-For from loopback peers only. Behind Caddy on
 * another host or a Kubernetes ingress, the peer is the proxy: every client
 * shared its address, so one guesser locked everyone out (the address lock)
 * and the logs, the audit trail and the registry saw one client. Believing
 * the header's leftmost entry instead would hand the address to the client:
 * `X-Forwarded-For: <anything>, …` is whatever it sends, and a proxy appends
 * the address it saw on the right.
 *
 * Now `auth.trustedProxies` lists the proxies (CIDRs; default loopback). The
 * client is the rightmost address of the chain (socket address, then
 * X-Forwarded-For from right to left) that is not a trusted proxy: the attack
 * `X-Forwarded-For: 198.51.100.66, 203.0.113.7` through a trusted proxy is
 * client 203.0.113.7 — for the throttle, the logs, the audit trail and the
 * X-Forwarded-For sent to the registry — never the spoofed 198.51.100.66.
 * From a peer that is not a trusted proxy, X-Forwarded-For and
 * X-Forwarded-Proto are ignored.
 *
 * Peers: every test client connects to 127.0.0.1. The untrusted-peer case is
 * shown by narrowing trustedProxies to 10.0.0.0/8 (loopback untrusted), which
 * works on any machine; the balancer on another address is shown from this
 * host's own non-loopback address, where it has one.
 */
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRecorder, type Recorder } from '../harness/recorder.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { basic, ociBody, send, type RawResponse } from '../support/http.js';
import { registryOps } from '../support/registry-ops.js';

const REPO = 'forwarded/app';
const BLOB = 'a public layer';
const accessControl = { repositories: { '**': { anonymousPolicy: ['read'] } } };
const throttle = { delayAfter: 100, maxFailures: 3 };
const SPOOFED = '198.51.100.66';
const CLIENT = '203.0.113.7';
const ADDRESS_LOCKED = ociBody('TOOMANYREQUESTS', 'too many failed authentications from this address; try again later', 'address-locked');

/** This host's first non-loopback IPv4 address: a peer other than 127.0.0.1 for a gate listening there. */
const OWN_ADDRESS = Object.values(networkInterfaces())
  .flat()
  .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;

let registry: Registry;
let recorder: Recorder;
let digest = '';
const gates: GateUnderTest[] = [];

async function gateTrusting(trustedProxies?: readonly string[]): Promise<GateUnderTest> {
  const auth = { failDelay: 0, throttle, ...(trustedProxies === undefined ? {} : { trustedProxies }) };
  const gate = await startGate({ upstream: recorder.url, accessControl, extra: { auth } });
  gates.push(gate);
  return gate;
}

interface From {
  readonly xff?: string;
  readonly proto?: string;
  readonly auth?: string;
  readonly localAddress?: string;
}

function get(gate: GateUnderTest, path: string, { xff, proto, auth, localAddress }: From): Promise<RawResponse> {
  const headers = { ...(xff && { 'x-forwarded-for': xff }), ...(proto && { 'x-forwarded-proto': proto }), ...(auth && { authorization: auth }) };
  return send(gate.url, { path, headers, ...(localAddress === undefined ? {} : { localAddress }) });
}

/** The X-Forwarded-For the registry received for one anonymous blob pull. */
async function forwardedToRegistry(gate: GateUnderTest, from: From): Promise<string | string[] | undefined> {
  recorder.clear();
  const response = await get(gate, `/v2/${REPO}/blobs/${digest}`, from);
  expect(response.status, response.body).toBe(200);
  expect(recorder.requests).toHaveLength(1);
  return recorder.requests[0]!.headers['x-forwarded-for'];
}

/** Locks the address `from` resolves to with three wrong keys; returns the throttle log line and audit clients. */
async function lockThrough(gate: GateUnderTest, from: (i: number) => From): Promise<{ address: unknown; clients: unknown[] }> {
  gate.logs.length = 0;
  for (let i = 0; i < 2; i++) expect((await get(gate, '/v2/', { ...from(i), auth: basic('mallory', `zak_${String(i).padStart(32, '0')}`) })).status).toBe(401);
  const third = await get(gate, '/v2/', { ...from(2), auth: basic('mallory', `zak_${'2'.padStart(32, '0')}`) });
  expect(third.json()).toEqual(ADDRESS_LOCKED);
  const line = gate.logs.find((l) => l.msg === 'authentication throttled') as { throttle: { address: unknown } } | undefined;
  const clients = gate.logs.filter((l) => l.msg === 'audit').map((l) => l.client);
  return { address: line?.throttle.address, clients };
}

beforeAll(async () => {
  registry = await startRegistry();
  recorder = await startRecorder(registry.url);
  digest = await registryOps(registry.url).putBlob(REPO, BLOB);
}, 60_000);

afterAll(async () => {
  for (const gate of gates) await gate.stop();
  await recorder?.stop();
  await registry?.stop();
});

describe('behind a proxy on loopback (the default trustedProxies)', () => {
  let gate: GateUnderTest;
  beforeAll(async () => {
    gate = await gateTrusting();
  });

  it('the registry is told the rightmost address, never the spoofed leftmost one', async () => {
    expect(await forwardedToRegistry(gate, { xff: `${SPOOFED}, ${CLIENT}` })).toBe(CLIENT);
  });

  it('the throttle and the audit trail key on it: a new spoofed entry per guess changes nothing', async () => {
    const locked = await lockThrough(gate, (i) => ({ xff: `198.51.100.${i}, ${CLIENT}` }));
    expect(locked).toEqual({ address: CLIENT, clients: [CLIENT, CLIENT, CLIENT] });
    // the client is locked however it decorates the header; the address it spoofed is not
    expect((await get(gate, '/v2/', { xff: `192.0.2.200, ${CLIENT}`, auth: basic('ci', 'zak_x') })).json()).toEqual(ADDRESS_LOCKED);
    expect((await get(gate, '/v2/', { xff: '198.51.100.0', auth: basic('ci', 'zak_x') })).status).toBe(401);
  });

  it('X-Forwarded-Proto from the proxy is believed', async () => {
    const response = await get(gate, '/v2/', { proto: 'https' });
    expect(response.headers['www-authenticate']).toBe(`Bearer realm="https://${gate.host}/zot/auth/token",service="${gate.host}"`);
  });
});

describe('a chain of trusted proxies (127.0.0.0/8 and an ingress in 10.0.0.0/8)', () => {
  it('skips every trusted hop from the right and stops at the first address that is not one', async () => {
    const gate = await gateTrusting(['127.0.0.0/8', '::1/128', '10.0.0.0/8']);
    expect(await forwardedToRegistry(gate, { xff: `${SPOOFED}, ${CLIENT}, 10.1.2.3` })).toBe(CLIENT);
    // a trusted address the client wrote on the left is not skipped past: the walk stops at the client
    expect(await forwardedToRegistry(gate, { xff: `10.9.9.9, ${CLIENT}, 10.1.2.3` })).toBe(CLIENT);
  });
});

describe('from a peer that is not a trusted proxy (loopback, with trustedProxies 10.0.0.0/8)', () => {
  let gate: GateUnderTest;
  beforeAll(async () => {
    gate = await gateTrusting(['10.0.0.0/8']);
  });

  it('X-Forwarded-For is ignored: the client is the peer', async () => {
    expect(await forwardedToRegistry(gate, { xff: `${SPOOFED}, ${CLIENT}` })).toBe('127.0.0.1');
    const locked = await lockThrough(gate, (i) => ({ xff: `198.51.100.${i}` }));
    expect(locked).toEqual({ address: '127.0.0.1', clients: ['127.0.0.1', '127.0.0.1', '127.0.0.1'] });
  });

  it('X-Forwarded-Proto is ignored', async () => {
    const response = await get(gate, '/v2/', { proto: 'https' });
    expect(response.headers['www-authenticate']).toBe(`Bearer realm="http://${gate.host}/zot/auth/token",service="${gate.host}"`);
  });
});

// Skip reason: a real peer other than loopback needs a non-loopback IPv4 address on this host; where there is none,
// the suite's name says so, and the narrowed-trustedProxies suites above cover the same rule from loopback.
describe.skipIf(OWN_ADDRESS === undefined)(`a balancer on another address (this host's ${OWN_ADDRESS ?? 'none: no non-loopback IPv4 address'})`, () => {
  let gate: GateUnderTest;
  beforeAll(async () => {
    gate = await gateTrusting([`${OWN_ADDRESS}/32`]);
  });

  it('its X-Forwarded-For is believed, rightmost first', async () => {
    expect(await forwardedToRegistry(gate, { xff: `${SPOOFED}, ${CLIENT}`, localAddress: OWN_ADDRESS! })).toBe(CLIENT);
  });

  it('clients behind it are told apart: one locked client does not lock the others', async () => {
    const locked = await lockThrough(gate, (i) => ({ xff: `198.51.100.${i}, ${CLIENT}`, localAddress: OWN_ADDRESS! }));
    expect(locked).toEqual({ address: CLIENT, clients: [CLIENT, CLIENT, CLIENT] });
    const other = await get(gate, '/v2/', { xff: '203.0.113.8', auth: basic('ci', 'zak_x'), localAddress: OWN_ADDRESS! });
    expect(other.status, other.body).toBe(401);
  });

  it('loopback, not in the list, is no longer believed', async () => {
    expect(await forwardedToRegistry(gate, { xff: CLIENT })).toBe('127.0.0.1');
  });
});
