/**
 * Regression: aborted downloads leaked an upstream socket and a read buffer.
 *
 * The attack (unauthenticated): send `GET /v2/<public repo>/blobs/<digest of
 * a blob over 1 MiB>` and close the socket at once. The gate had already asked
 * the registry; when the answer came, the client's response was closed and no
 * `close` would ever fire again, so the relay's body sat paused forever with
 * its first megabyte read and its registry socket held. 50 aborts gave 50
 * stuck upstream connections and +60 MB; about 250 filled the relay and every
 * later pull hung.
 *
 * A client that goes away at any stage — before the registry answered, mid
 * body, or while the transfer is paused because it stopped reading — must
 * release its upstream socket within 2 s, on the relay and on the general
 * (undici) path, for blobs, manifests, tag lists and referrers, GET and HEAD;
 * and a client that vanishes mid-upload (PATCH, PUT) aborts its upstream
 * request at once.
 *
 * Bounds asserted, burst after burst of 300 aborted requests: no connection
 * from the gate to the registry holds an unread byte 2 s after the burst; the
 * gate's upstream connections after the third burst are no more than after
 * the first (the relay keeps at most 16 idle, undici its pool) and never more
 * than 64; the test process's RSS (the gate runs in it) grows by less than
 * 48 MiB from the first burst to the third (one burst leaked ≥ 300 MiB).
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abandon, requestHead, type Cut } from '../harness/abandon.js';
import { startFaultInjector, type FaultInjector } from '../harness/faulty.js';
import { sha256 } from '../harness/images.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { connectionsTo } from '../harness/sockets.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { basic } from '../support/http.js';

const POLICY = {
  repositories: {
    '**': { anonymousPolicy: ['read'], policies: [{ users: ['ci'], actions: ['read', 'create'] }] },
  },
};
const BURST = 300;
const PARALLEL = 50;
/** the relay keeps at most this many idle connections (relay.ts MAX_IDLE) */
const RELAY_IDLE = 16;
/** idle connections both pools may keep after a burst: the relay's, and undici's from its busiest moment */
const MAX_CONNECTIONS = RELAY_IDLE + PARALLEL;
const MAX_RSS_GROWTH = 48 * 1024 * 1024;
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

/** Right after the request is sent, after the first bytes of the answer, after them and a pause. */
const CUTS: readonly Cut[] = [{ kind: 'sent' }, { kind: 'read', bytes: 1 }, { kind: 'paused', bytes: 1, ms: 50 }];

async function burst(url: string, heads: readonly string[]): Promise<void> {
  const { hostname, port } = new URL(url);
  const jobs = Array.from({ length: BURST }, (_, i) => () => abandon(hostname, Number(port), heads[i % heads.length]!, CUTS[i % CUTS.length]!));
  for (let i = 0; i < jobs.length; i += PARALLEL) await Promise.all(jobs.slice(i, i + PARALLEL).map((job) => job()));
}

/** Waits up to 2 s for no upstream connection to hold unread bytes; returns what is held then. */
async function settled(upstreamPort: number): Promise<{ connections: number; unread: number }> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const held = await connectionsTo(upstreamPort);
    const unread = held.filter((c) => c.unread > 0).length;
    if (unread === 0 || Date.now() > deadline) return { connections: held.length, unread };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Upstreams {
  readonly registry: Registry;
  readonly injector: FaultInjector;
  readonly blob: Buffer;
  readonly digest: string;
  readonly manifestDigest: string;
}

/** A registry with one 8 MiB blob and a manifest in `pub/big`, and an injector in front of it. */
async function upstreams(): Promise<Upstreams> {
  const registry = await startRegistry();
  const blob = randomBytes(8 * 1024 * 1024);
  const digest = sha256(blob);
  const started = await fetch(`${registry.url}/v2/pub/big/blobs/uploads/`, { method: 'POST' });
  const location = new URL(started.headers.get('location')!, registry.url);
  location.searchParams.set('digest', digest);
  expect((await fetch(location, { method: 'PUT', body: blob })).status).toBe(201);
  const config = Buffer.from('{}');
  const configDigest = sha256(config);
  const cfgStart = await fetch(`${registry.url}/v2/pub/big/blobs/uploads/`, { method: 'POST' });
  const cfgLocation = new URL(cfgStart.headers.get('location')!, registry.url);
  cfgLocation.searchParams.set('digest', configDigest);
  expect((await fetch(cfgLocation, { method: 'PUT', body: config })).status).toBe(201);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST_TYPE,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: blob.length }],
  });
  const put = await fetch(`${registry.url}/v2/pub/big/manifests/v1`, { method: 'PUT', body: manifest, headers: { 'content-type': MANIFEST_TYPE } });
  expect(put.status).toBe(201);
  const injector = await startFaultInjector(registry.url);
  return { registry, injector, blob, digest, manifestDigest: sha256(manifest) };
}

describe('downloads abandoned at every stage release their upstream sockets', () => {
  let up: Upstreams;
  let gate: GateUnderTest;
  let heads: string[];

  beforeAll(async () => {
    up = await upstreams();
    gate = await startGate({ upstream: up.injector.url, accessControl: POLICY });
    const accept = { accept: MANIFEST_TYPE };
    heads = [
      requestHead('GET', `/v2/pub/big/blobs/${up.digest}`),
      requestHead('GET', `/v2/pub/big/blobs/${up.digest}`),
      requestHead('HEAD', `/v2/pub/big/blobs/${up.digest}`),
      requestHead('GET', '/v2/pub/big/manifests/v1', accept),
      requestHead('HEAD', '/v2/pub/big/manifests/v1', accept),
      requestHead('GET', '/v2/pub/big/tags/list'),
      requestHead('GET', `/v2/pub/big/referrers/${up.digest}`),
    ];
  });
  afterAll(async () => {
    await gate?.stop();
    await up?.injector.stop();
    await up?.registry.stop();
  });

  const paths = [
    { path: 'the relay', arm: () => undefined },
    // The registry's answers without a Content-Length: the relay declines them and undici carries them.
    { path: 'the general path (undici)', arm: () => up.injector.inject({ method: 'GET', path: /^\/v2\//, answer: 'unframed' }) },
  ];

  it.each(paths)('$path: three bursts of 300 leave no unread body, no growing pool, no growing RSS', async ({ arm }) => {
    up.injector.heal();
    arm();
    const port = Number(new URL(up.injector.url).port);
    const rounds: Array<{ connections: number; unread: number; rss: number }> = [];
    for (let round = 0; round < 3; round++) {
      await burst(gate.url, heads);
      const held = await settled(port);
      rounds.push({ ...held, rss: process.memoryUsage().rss });
    }
    expect(rounds.map((r) => r.unread)).toEqual([0, 0, 0]);
    expect(rounds[2]!.connections).toBeLessThanOrEqual(rounds[0]!.connections + RELAY_IDLE);
    expect(Math.max(...rounds.map((r) => r.connections))).toBeLessThanOrEqual(MAX_CONNECTIONS);
    expect(rounds[2]!.rss - rounds[0]!.rss).toBeLessThan(MAX_RSS_GROWTH);

    // And the gate still serves a whole pull afterwards.
    const response = await fetch(`${gate.url}/v2/pub/big/blobs/${up.digest}`);
    expect(response.status).toBe(200);
    expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(up.digest);
    up.injector.heal();
  });
});

describe('an upload abandoned mid-body aborts its upstream request at once', () => {
  let up: Upstreams;
  let gate: GateUnderTest;
  let auth: string;

  beforeAll(async () => {
    up = await upstreams();
    gate = await startGate({ upstream: up.injector.url, accessControl: POLICY });
    auth = basic('ci', (await gate.store.create({ owner: 'ci', label: 'abort', expiresAt: null, scopes: [] })).key);
  });
  afterAll(async () => {
    await gate?.stop();
    await up?.injector.stop();
    await up?.registry.stop();
  });

  /** Opens an upload through the gate and returns its path and query. */
  async function openUpload(): Promise<string> {
    const started = await fetch(`${gate.url}/v2/pub/up/blobs/uploads/`, { method: 'POST', headers: { authorization: auth } });
    expect(started.status).toBe(202);
    return started.headers.get('location')!;
  }

  const methods = [
    { method: 'PATCH', target: (location: string) => location },
    { method: 'PUT', target: (location: string) => `${location}&digest=${sha256('never finished')}` },
  ];

  it.each(methods)('$method: the registry sees its request cut off within 2 s of the client leaving', async ({ method, target }) => {
    const path = target(await openUpload());
    up.injector.clear();
    const { hostname, port } = new URL(gate.url);
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.on('error', () => undefined);
    const head = requestHead(method, path, { authorization: auth, 'content-type': 'application/octet-stream', 'content-length': String(64 * 1024 * 1024) });
    socket.write(head);
    socket.write(randomBytes(1024 * 1024));
    const forwarded = () => up.injector.requests.find((r) => r.method === method);
    for (let waited = 0; forwarded() === undefined && waited < 5_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(forwarded()?.bodyEnd).toBe(null);

    socket.destroy();
    const left = performance.now();
    for (let waited = 0; forwarded()!.bodyEnd === null && waited < 2_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(forwarded()!.bodyEnd).toBe('aborted');
    expect(performance.now() - left).toBeLessThan(2_000);
  });
});
