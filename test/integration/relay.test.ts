/**
 * The relay (src/proxy/relay.ts): reads stream from the registry's socket
 * to the client with the registry's own Content-Length.
 * The real registry proves the bytes; a scripted upstream — a fault injector,
 * since no real registry misbehaves on cue — proves the edges: kept
 * connections, a kept connection found closed, answers the relay declines,
 * bodies cut short or overrunning, silence, and a client that stops reading.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type Registry } from '../harness/registry.js';
import { freePort } from '../harness/ports.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { send } from '../support/http.js';
import { Relay } from '../../src/proxy/relay.js';
import { sha256 } from '../harness/images.js';

const OPEN = { repositories: { '**': { anonymousPolicy: ['read'] } } };
const DIGEST = `sha256:${'a'.repeat(64)}`;
const BLOB_PATH = `/v2/scripted/blobs/${DIGEST}`;
const failure = (message: string, reason: string, upstream: string) => ({ errors: [{ code: 'UNAVAILABLE', message, detail: { reason, upstream } }] });

describe('blob GETs from the real registry', () => {
  let registry: Registry;
  let gate: GateUnderTest;
  const blob = randomBytes(3 * 1024 * 1024 + 17);
  const digest = sha256(blob);

  beforeAll(async () => {
    registry = await startRegistry();
    const started = await fetch(`${registry.url}/v2/relay/blobs/uploads/`, { method: 'POST' });
    const location = new URL(started.headers.get('location')!, registry.url);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, { method: 'PUT', body: blob, headers: { 'content-type': 'application/octet-stream' } });
    expect(put.status).toBe(201);
    gate = await startGate({ upstream: registry.url, accessControl: OPEN });
  });
  afterAll(async () => {
    await gate?.stop();
    await registry?.stop();
  });

  it('streams the whole blob with the registry’s length and digest headers', async () => {
    const response = await fetch(`${gate.url}/v2/relay/blobs/${digest}`, { headers: { 'x-request-id': 'relay-1' } });
    const body = Buffer.from(await response.arrayBuffer());
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('relay-1');
    expect(response.headers.get('content-length')).toBe(String(blob.length));
    expect(response.headers.get('docker-content-digest')).toBe(digest);
    expect(sha256(body)).toBe(digest);
  });

  it('passes a Range request through: 206 with exactly the bytes asked for', async () => {
    const response = await fetch(`${gate.url}/v2/relay/blobs/${digest}`, { headers: { range: 'bytes=1048570-1048589' } });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(`bytes 1048570-1048589/${blob.length}`);
    expect(Buffer.from(await response.arrayBuffer()).equals(blob.subarray(1048570, 1048590))).toBe(true);
  });

  it('answers an unknown blob with the registry’s 404 body', async () => {
    const response = await send(gate.url, { path: `/v2/relay/blobs/${DIGEST}` });
    expect(response.status).toBe(404);
    expect(response.json<{ errors: Array<{ code: string }> }>().errors[0]!.code).toBe('BLOB_UNKNOWN');
  });
});

/** One scripted answer per request: gets the request's head, its 1-based index, and the socket to answer on. */
type Script = (socket: net.Socket, index: number) => void;

interface Scripted {
  readonly url: string;
  readonly requests: string[];
  readonly connections: net.Socket[];
  script: Script;
  stop(): Promise<void>;
}

async function startScripted(host = '127.0.0.1'): Promise<Scripted> {
  const state: Scripted = {
    url: '',
    requests: [],
    connections: [],
    script: () => undefined,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = net.createServer((socket) => {
    state.connections.push(socket);
    socket.on('error', () => undefined);
    let pending = '';
    socket.on('data', (data) => {
      pending += data.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
        state.requests.push(pending.slice(0, end));
        pending = pending.slice(end + 4);
        state.script(socket, state.requests.length);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  const authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return Object.assign(state, { url: `http://${authority}`, stop: () => new Promise<void>((resolve) => { for (const c of state.connections) c.destroy(); server.close(() => resolve()); }) });
}

const answer = (body: string, extra = '') => `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/octet-stream\r\n${extra}\r\n${body}`;

describe('blob GETs from a scripted upstream', () => {
  let scripted: Scripted;
  let gate: GateUnderTest;

  beforeAll(async () => {
    scripted = await startScripted();
    gate = await startGate({ upstream: scripted.url, accessControl: OPEN, extra: { upstream: { url: scripted.url, timeout: '1s' } } });
  });
  afterAll(async () => {
    await gate?.stop();
    await scripted?.stop();
  });
  afterEach(async () => {
    // A fresh start for every case: no kept connection carries over.
    for (const c of scripted.connections) c.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    scripted.connections.length = 0;
    scripted.requests.length = 0;
  });

  it('keeps the connection: two GETs, one upstream connection, the gate’s host and forwarding headers', async () => {
    scripted.script = (socket) => socket.write(answer('hello'));
    expect((await send(gate.url, { path: BLOB_PATH, headers: { cookie: 'a=b', 'x-trace': 't1' } })).body).toBe('hello');
    expect((await send(gate.url, { path: BLOB_PATH })).body).toBe('hello');
    expect(scripted.connections).toHaveLength(1);
    expect(scripted.requests).toHaveLength(2);
    const [line, ...fields] = scripted.requests[0]!.split('\r\n');
    expect(line).toBe(`GET ${BLOB_PATH} HTTP/1.1`);
    const names = fields.map((f) => f.slice(0, f.indexOf(':')));
    expect(names).toContain('x-forwarded-host');
    expect(names).not.toContain('cookie');
    expect(fields).toContain('x-trace: t1');
    expect(fields).toContain(`host: ${new URL(scripted.url).host}`);
  });

  it('serves many GETs on one kept connection without piling up listeners on it', async () => {
    scripted.script = (socket) => socket.write(answer('again and again'));
    const warnings: string[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 15; i++) expect((await send(gate.url, { path: BLOB_PATH })).body).toBe('again and again');
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(scripted.connections).toHaveLength(1);
    expect(warnings).toEqual([]);
  });

  it('answers a HEAD with the registry’s headers and no body, and keeps the connection for the next read', async () => {
    scripted.script = (socket, index) =>
      socket.write(index === 1 ? 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nDocker-Content-Digest: sha256:beef\r\n\r\n' : answer('next'));
    const head = await send(gate.url, { method: 'HEAD', path: `/v2/scripted/manifests/latest` });
    expect([head.status, head.headers['content-length'], head.headers['docker-content-digest'], head.body]).toEqual([200, '1234', 'sha256:beef', '']);
    expect((await send(gate.url, { path: BLOB_PATH })).body).toBe('next');
    expect(scripted.connections).toHaveLength(1);
    expect(scripted.requests.map((r) => r.split('\r\n')[0])).toEqual(['HEAD /v2/scripted/manifests/latest HTTP/1.1', `GET ${BLOB_PATH} HTTP/1.1`]);
  });

  it('replaces a kept connection the registry closed before answering, once', async () => {
    scripted.script = (socket, index) => (index === 2 ? socket.destroy() : socket.write(answer('again')));
    expect((await send(gate.url, { path: BLOB_PATH })).body).toBe('again');
    const second = await send(gate.url, { path: BLOB_PATH });
    expect([second.status, second.body]).toEqual([200, 'again']);
    expect(scripted.connections).toHaveLength(2);
    expect(scripted.requests).toHaveLength(3);
  });

  it('asks a chunked answer again the general way, and the client gets the whole body', async () => {
    scripted.script = (socket, index) =>
      socket.write(index === 1 ? 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nchunk\r\n3\r\ned!\r\n0\r\n\r\n' : answer('plain'));
    // The general path (undici) sends the same GET; this script answers it with a length.
    const response = await send(gate.url, { path: BLOB_PATH });
    expect([response.status, response.body]).toEqual([200, 'plain']);
    expect(scripted.requests.map((r) => r.split('\r\n')[0])).toEqual([`GET ${BLOB_PATH} HTTP/1.1`, `GET ${BLOB_PATH} HTTP/1.1`]);
  });

  it('cuts the client off when the registry stops short of its Content-Length, and stays healthy', async () => {
    scripted.script = (socket, index) => {
      if (index === 1) {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
        socket.end('x'.repeat(500));
      } else socket.write(answer('fine'));
    };
    await expect(send(gate.url, { path: BLOB_PATH })).rejects.toThrow('aborted');
    expect((await send(gate.url, { path: BLOB_PATH })).body).toBe('fine');
  });

  it('gives the client exactly the stated length when the registry sends more, and does not keep that connection', async () => {
    scripted.script = (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n0123456789');
    expect((await send(gate.url, { path: BLOB_PATH })).body).toBe('01234');
    expect((await send(gate.url, { path: BLOB_PATH })).body).toBe('01234');
    expect(scripted.connections).toHaveLength(2);
  });

  it('answers 504 with an OCI body when the registry says nothing within upstream.timeout', async () => {
    scripted.script = () => undefined;
    const started = performance.now();
    const response = await send(gate.url, { path: BLOB_PATH });
    expect(response.status).toBe(504);
    expect(response.json()).toEqual(failure('the registry behind the gate did not answer in time; retry later', 'upstream-timeout', 'UND_ERR_HEADERS_TIMEOUT'));
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('closes the upstream connection when the client hangs up mid-body', async () => {
    scripted.script = (socket) => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n${'y'.repeat(65536)}`);
    const client = net.connect(Number(new URL(gate.url).port), '127.0.0.1');
    client.write(`GET ${BLOB_PATH} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await new Promise((resolve) => client.once('data', resolve));
    const upstreamClosed = new Promise((resolve) => scripted.connections[0]!.once('close', () => resolve('closed')));
    client.destroy();
    await expect(upstreamClosed).resolves.toBe('closed');
    scripted.script = (socket) => socket.write(answer('after'));
    expect((await send(gate.url, { path: BLOB_PATH })).body).toBe('after');
  });

  it('stops reading from the registry while the client is not reading (bounded memory), then delivers every byte', async () => {
    const total = 64 * 1024 * 1024;
    const piece = Buffer.alloc(256 * 1024, 0x61);
    let flushed = 0;
    scripted.script = (socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${total}\r\n\r\n`);
      const more = () => {
        while (flushed < total) {
          flushed += piece.length;
          if (!socket.write(piece)) return void socket.once('drain', more);
        }
      };
      more();
    };
    const client = net.connect(Number(new URL(gate.url).port), '127.0.0.1');
    client.write(`GET ${BLOB_PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    let received = 0;
    client.once('data', (first: Buffer) => {
      received += first.length;
      client.pause();
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Socket buffers on both loopback hops plus the relay's 1 MiB, far from the whole 64 MiB.
    expect(flushed).toBeLessThan(24 * 1024 * 1024);
    client.on('data', (data: Buffer) => void (received += data.length));
    client.resume();
    await new Promise((resolve) => client.once('end', resolve));
    const headLength = received - total;
    expect(headLength).toBeGreaterThan(0);
    expect(headLength).toBeLessThan(1024);
  });
});

it('answers 503 with an OCI body when nothing listens on the upstream port', async () => {
  const port = await freePort();
  const gate = await startGate({ upstream: `http://127.0.0.1:${port}`, accessControl: OPEN });
  try {
    const response = await send(gate.url, { path: BLOB_PATH });
    expect(response.status).toBe(503);
    expect(response.json()).toEqual(failure('the registry behind the gate cannot be reached; retry later', 'upstream-unreachable', 'ECONNREFUSED'));
  } finally {
    await gate.stop();
  }
});

it('reaches an upstream named by an IPv6 literal, and names it in brackets in Host', async () => {
  const scripted = await startScripted('::1');
  const gate = await startGate({ upstream: scripted.url, accessControl: OPEN });
  try {
    scripted.script = (socket) => socket.write(answer('over v6'));
    expect((await send(gate.url, { path: BLOB_PATH })).body).toBe('over v6');
    expect(scripted.requests[0]!.split('\r\n')).toContain(`host: ${new URL(scripted.url).host}`);
  } finally {
    await gate.stop();
    await scripted.stop();
  }
});

it('leaves an https upstream to the general path: never a cleartext connection to it', async () => {
  const scripted = await startScripted();
  const relay = new Relay(`https://127.0.0.1:${new URL(scripted.url).port}`, { headersTimeoutMs: 1_000, bodyIdleMs: 1_000 });
  try {
    expect(await relay.get('GET', BLOB_PATH, {}, new AbortController().signal)).toEqual({ kind: 'declined', reason: 'https upstream' });
    expect(scripted.connections).toHaveLength(0);
  } finally {
    relay.close();
    await scripted.stop();
  }
});
