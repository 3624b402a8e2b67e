/**
 * Slow clients (slowloris) against a real gate over the real registry, with
 * raw sockets: headers that never end, an idle keep-alive connection, bodies
 * trickled one byte at a time, a stalled upload — each bounded — and a blob
 * upload and download that outlast every bound but keep bytes moving, which
 * must complete. The bounds are shortened through `buildServer`'s deps so the
 * file runs in seconds; production uses CONNECTION_BOUNDS
 * (src/http/connection-bounds.ts).
 *
 * Attack: one client per connection sends a byte now and then. Before these
 * bounds (measured on Node 20 / Fastify 5): headers held 60–90 s, keep-alive
 * 72 s, and a trickled body — or one the gate had already refused — held its
 * connection for as long as the client kept sending.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionBounds } from '../../src/http/connection-bounds.js';
import type { ApiKeyStore } from '../../src/identity/apikey-store.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { sha256 } from '../harness/images.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { basic, ociBody, send } from '../support/http.js';
import { OCI_MANIFEST, registryOps } from '../support/registry-ops.js';

const BOUNDS: ConnectionBounds = { headersMs: 1_000, keepAliveMs: 2_500, idleMs: 1_500, bodyMs: 1_500 };
/** Node checks header deadlines every headersMs / 4; the rest is scheduling on a busy 2-core box. */
const SLACK_MS = 2_000;

const accessControl = {
  repositories: { '**': { anonymousPolicy: ['read'], policies: [{ users: ['ci'], actions: ['read', 'create'] }] } },
};

let registry: Registry;
let gate: GateUnderTest;
let store: ApiKeyStore;
let port: number;
let gateUrl: string;
let ci: string;
/** every log line the gate wrote, parsed */
let logs: Array<Record<string, unknown>>;

beforeAll(async () => {
  registry = await startRegistry();
  gate = await startGate({ upstream: registry.url, accessControl, bounds: BOUNDS });
  ({ store, logs, url: gateUrl } = gate);
  port = Number(new URL(gateUrl).port);
  ci = basic('ci', (await store.create({ owner: 'ci', label: 'test', expiresAt: null, scopes: [] })).key);
}, 60_000);

afterAll(async () => {
  await gate?.stop();
  await registry?.stop();
});

/** What a raw connection saw: every byte the gate sent, and when the gate closed it. */
interface Watched {
  readonly socket: Socket;
  /** epoch ms of the connect */
  readonly startedAt: number;
  /** ms since connect at which the first byte of an answer arrived, or null */
  firstByteAt(): number | null;
  text(): string;
  /** resolves to ms since connect when the connection is closed, or null when still open after `limitMs` */
  closed(limitMs: number): Promise<number | null>;
}

function watch(): Promise<Watched> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let first: number | null = null;
    let closedAt: number | null = null;
    const start = Date.now();
    const onClose: Array<() => void> = [];
    socket.on('data', (chunk: Buffer) => {
      first ??= Date.now() - start;
      chunks.push(chunk);
    });
    socket.on('error', () => undefined); // a reset after the gate's answer is how some closes look
    socket.on('close', () => {
      closedAt = Date.now() - start;
      for (const wake of onClose) wake();
    });
    socket.once('connect', () =>
      resolve({
        socket,
        startedAt: start,
        firstByteAt: () => first,
        text: () => Buffer.concat(chunks).toString('latin1'),
        closed: async (limitMs) => {
          if (closedAt === null) await Promise.race([sleep(limitMs), new Promise<void>((wake) => onClose.push(wake))]);
          if (closedAt === null) socket.destroy();
          return closedAt;
        },
      }),
    );
    socket.once('error', reject);
  });
}

/** Writes `bytes` one at a time every `everyMs` until the socket closes or `stop()` is called. */
function drip(socket: Socket, bytes: string, everyMs = 100): { stop(): void; lastAt(): number } {
  let i = 0;
  let last = Date.now();
  const timer = setInterval(() => {
    if (socket.destroyed || !socket.writable) return clearInterval(timer);
    if (bytes === '') return;
    socket.write(bytes[i++ % bytes.length]!);
    last = Date.now();
  }, everyMs);
  return { stop: () => clearInterval(timer), lastAt: () => last };
}

/** The first HTTP response in `text`. */
function parseResponse(text: string): { statusLine: string; headers: Record<string, string>; body: string } {
  const end = text.indexOf('\r\n\r\n');
  expect(end, `no complete response in ${JSON.stringify(text)}`).toBeGreaterThan(0);
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  const length = Number(headers['content-length']);
  return { statusLine: statusLine!, headers, body: text.slice(end + 4, end + 4 + length) };
}

const oci = (code: string, message: string, reason: string) => JSON.stringify(ociBody(code, message, reason));

/** Uploads `bytes` straight to the registry, as one monolithic PUT; returns its digest. */
const pushBlobDirect = (repository: string, bytes: Buffer): Promise<string> => registryOps(registry.url).putBlob(repository, bytes);

/** A valid image manifest whose blobs are in `repository`. */
async function manifestIn(repository: string, seed: string): Promise<string> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', seed }));
  const layer = randomBytes(512);
  const [configDigest, layerDigest] = [await pushBlobDirect(repository, config), await pushBlobDirect(repository, layer)];
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
  });
}

/** One request through the gate with the body sent in `chunks`, `gapMs` apart. */
function streamed(method: string, path: string, headers: Record<string, string>, chunks: readonly Buffer[], gapMs: number) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const req = httpRequest({ host: '127.0.0.1', port, method, path, agent: false, headers: { ...headers, 'content-length': String(total) } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    void (async () => {
      for (const chunk of chunks) {
        req.write(chunk);
        await sleep(gapMs);
      }
      req.end();
    })();
  });
}

function split(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

describe('headers', () => {
  it.each([
    ['sent one byte every 100 ms, never ending', 'GET /-/healthz HTTP/1.1\r\nHost: gate\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
    ['never sent: a silent connection', ''],
  ])('%s: answered 408 with an OCI body and closed within the header bound', async (_name, bytes) => {
    const client = await watch();
    const writer = drip(client.socket, bytes);
    const closedAt = await client.closed(BOUNDS.headersMs + 5_000);
    writer.stop();
    expect(closedAt).not.toBeNull();
    expect(closedAt!).toBeGreaterThanOrEqual(BOUNDS.headersMs - 50);
    expect(closedAt!).toBeLessThanOrEqual(BOUNDS.headersMs + SLACK_MS);
    const body = oci('UNSUPPORTED', 'the request headers did not arrive in time', 'headers-timeout');
    expect(client.text()).toBe(
      `HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
});

describe('requests Node refuses before the gate sees them', () => {
  it.each([
    ['broken HTTP', 'NOT HTTP AT ALL\r\n\r\n', '400 Bad Request', oci('UNSUPPORTED', 'the request is not valid HTTP/1.1', 'malformed-request')],
    ['a 20 KiB header (Node allows 16 KiB)', `GET /-/healthz HTTP/1.1\r\nHost: gate\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`, '431 Request Header Fields Too Large', oci('UNSUPPORTED', 'the request headers are too large', 'headers-too-large')],
  ])('%s: answered with an OCI body and closed', async (_name, bytes, status, body) => {
    const client = await watch();
    client.socket.write(bytes);
    expect(await client.closed(5_000)).not.toBeNull();
    expect(client.text()).toBe(`HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  });
});

describe('keep-alive', () => {
  it('an idle keep-alive connection outlives the header bound and is closed at the keep-alive bound', async () => {
    const client = await watch();
    client.socket.write('GET /-/healthz HTTP/1.1\r\nHost: gate\r\n\r\n');
    while (client.firstByteAt() === null) await sleep(10);
    const answeredAt = client.firstByteAt()!;
    const closedAt = await client.closed(BOUNDS.keepAliveMs + 5_000);
    const response = parseResponse(client.text());
    expect(response.statusLine).toBe('HTTP/1.1 200 OK');
    expect(response.headers['keep-alive']).toBe('timeout=2');
    expect(closedAt).not.toBeNull();
    expect(closedAt! - answeredAt).toBeGreaterThanOrEqual(BOUNDS.keepAliveMs - 100);
    expect(closedAt! - answeredAt).toBeLessThanOrEqual(BOUNDS.keepAliveMs + SLACK_MS);
  });
});

describe('bodies the gate reads whole', () => {
  it('a manifest PUT trickled one byte every 100 ms gets 408 at the body bound, is never forwarded, and blocks no other write', async () => {
    const manifest = await manifestIn('team/slow', 'trickled');
    const other = await manifestIn('team/slow', 'prompt');
    const client = await watch();
    client.socket.write(`PUT /v2/team/slow/manifests/trickled HTTP/1.1\r\nHost: gate\r\nAuthorization: ${ci}\r\nContent-Type: ${OCI_MANIFEST}\r\nContent-Length: ${manifest.length}\r\n\r\n`);
    const writer = drip(client.socket, manifest);

    // Meanwhile, a prompt PUT to the same repository goes through at once.
    const started = Date.now();
    const prompt = await send(gateUrl, { method: 'PUT', path: '/v2/team/slow/manifests/prompt', headers: { authorization: ci, 'content-type': OCI_MANIFEST }, body: other });
    expect(prompt.status, prompt.body).toBe(201);
    expect(Date.now() - started).toBeLessThan(BOUNDS.bodyMs);

    const closedAt = await client.closed(BOUNDS.bodyMs + 5_000);
    writer.stop();
    expect(closedAt).not.toBeNull();
    expect(client.firstByteAt()!).toBeGreaterThanOrEqual(BOUNDS.bodyMs - 50);
    expect(client.firstByteAt()!).toBeLessThanOrEqual(BOUNDS.bodyMs + SLACK_MS);
    const response = parseResponse(client.text());
    expect(response.statusLine).toBe('HTTP/1.1 408 Request Timeout');
    expect(response.headers.connection).toBe('close');
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.body).toBe(oci('UNSUPPORTED', 'the request body did not arrive within 1.5 s', 'body-timeout'));
    expect(await registryOps(registry.url).digestOf('team/slow', 'trickled')).toBeNull();
    expect(await registryOps(registry.url).digestOf('team/slow', 'prompt')).toBe(sha256(Buffer.from(other)));
  });

  it('a POST /zot/auth/apikey trickled one byte every 100 ms gets 408 at the body bound and creates no key', async () => {
    const payload = JSON.stringify({ label: 'never', scopes: [] });
    const client = await watch();
    client.socket.write(`POST /zot/auth/apikey HTTP/1.1\r\nHost: gate\r\nAuthorization: ${ci}\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\n\r\n`);
    const writer = drip(client.socket, payload);
    const closedAt = await client.closed(BOUNDS.bodyMs + 5_000);
    writer.stop();
    expect(closedAt).not.toBeNull();
    expect(client.firstByteAt()!).toBeGreaterThanOrEqual(BOUNDS.bodyMs - 50);
    expect(client.firstByteAt()!).toBeLessThanOrEqual(BOUNDS.bodyMs + SLACK_MS);
    const response = parseResponse(client.text());
    expect(response.statusLine).toBe('HTTP/1.1 408 Request Timeout');
    expect(response.headers.connection).toBe('close');
    expect(response.body).toBe(oci('UNSUPPORTED', 'the request body did not arrive within 1.5 s', 'body-timeout'));
    expect((await store.list('ci')).map((record) => record.label)).toEqual(['test']);
  });

  it('a refused upload whose body keeps trickling after the 401 is closed at the body bound', async () => {
    const client = await watch();
    client.socket.write('PATCH /v2/team/slow/blobs/uploads/0b6e1f3a-5a8c-4f3e-9b4e-3f1c2d7e8a90 HTTP/1.1\r\nHost: gate\r\nContent-Length: 1000000\r\n\r\n');
    const writer = drip(client.socket, 'x');
    const closedAt = await client.closed(BOUNDS.bodyMs + 5_000);
    writer.stop();
    expect(parseResponse(client.text()).statusLine).toBe('HTTP/1.1 401 Unauthorized');
    expect(closedAt).not.toBeNull();
    expect(closedAt! - client.firstByteAt()!).toBeGreaterThanOrEqual(BOUNDS.bodyMs - 100);
    expect(closedAt! - client.firstByteAt()!).toBeLessThanOrEqual(BOUNDS.bodyMs + SLACK_MS);
  });
});

describe('long transfers that keep moving', () => {
  it('a blob upload whose PATCH and PUT each take longer than every bound completes with the right digest', async () => {
    const blob = randomBytes(20 * 32 * 1024);
    const digest = sha256(blob);
    const auth = { authorization: ci, 'content-type': 'application/octet-stream' };
    const started = await send(gateUrl, { method: 'POST', path: '/v2/team/upload/blobs/uploads/', headers: { authorization: ci } });
    expect(started.status, started.body).toBe(202);
    const chunks = split(blob, 32 * 1024);
    const begun = Date.now();
    const patched = await streamed('PATCH', started.headers.location as string, auth, chunks.slice(0, 10), 200);
    expect(patched.status, patched.body).toBe(202);
    const closing = new URL(patched.headers.location as string, gateUrl);
    closing.searchParams.set('digest', digest);
    const put = await streamed('PUT', `${closing.pathname}${closing.search}`, auth, chunks.slice(10), 200);
    expect(put.status, put.body).toBe(201);
    expect(Date.now() - begun).toBeGreaterThan(2 * Math.max(BOUNDS.bodyMs, BOUNDS.idleMs, BOUNDS.headersMs));
    const stored = await send(registry.url, { method: 'HEAD', path: `/v2/team/upload/blobs/${digest}` });
    expect(stored.status).toBe(200);
    expect(stored.headers['content-length']).toBe(String(blob.length));
  });

  it('a blob download read slowly for longer than every bound completes with the right digest', async () => {
    const blob = randomBytes(28 * 1024 * 1024);
    const digest = await pushBlobDirect('team/download', blob);
    const got = await new Promise<Buffer>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: `/v2/team/download/blobs/${digest}`, agent: false }, (res) => {
        expect(res.statusCode).toBe(200);
        const parts: Buffer[] = [];
        // 6 MiB/s: the socket is paused in between, so the gate's writes wait on the client.
        res.on('data', (chunk: Buffer) => {
          parts.push(chunk);
          res.pause();
          setTimeout(() => res.resume(), (chunk.length / (6 * 1024 * 1024)) * 1000);
        });
        res.on('end', () => resolve(Buffer.concat(parts)));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    expect(got.length).toBe(blob.length);
    expect(sha256(got)).toBe(digest);
    // The socket buffers hold a few MB: what counts is how long the gate itself was still writing.
    const line = logs.find((entry) => entry.msg === 'request' && entry.url === `/v2/team/download/blobs/${digest}`);
    expect(line?.status).toBe(200);
    expect(line?.ms as number).toBeGreaterThan(2 * Math.max(BOUNDS.bodyMs, BOUNDS.idleMs, BOUNDS.headersMs));
  });

  it('an upload that stalls (no byte for longer than the idle bound) is cut at the idle bound', async () => {
    const started = await send(gateUrl, { method: 'POST', path: '/v2/team/stall/blobs/uploads/', headers: { authorization: ci } });
    expect(started.status, started.body).toBe(202);
    const client = await watch();
    client.socket.write(`PATCH ${started.headers.location as string} HTTP/1.1\r\nHost: gate\r\nAuthorization: ${ci}\r\nContent-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\r\n`);
    client.socket.write(randomBytes(64 * 1024));
    const stalledAt = Date.now();
    const closedAt = await client.closed(BOUNDS.idleMs + 5_000);
    expect(closedAt).not.toBeNull();
    expect(client.text()).toBe('');
    const idleFor = client.startedAt + closedAt! - stalledAt;
    expect(idleFor).toBeGreaterThanOrEqual(BOUNDS.idleMs - 100);
    expect(idleFor).toBeLessThanOrEqual(BOUNDS.idleMs + SLACK_MS);
  });
});
