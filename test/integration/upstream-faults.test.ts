/**
 * The registry behind the gate down, restarting, answering garbage or hung
 * (issue 8 item 3): every request gets an OCI error with a status that says
 * which (http/respond.ts `upstreamFailure`: 503 unreachable, 504 no answer in
 * time, 502 broke off), the gate stays up and takes the registry back with no
 * restart, and no socket to the registry outlives its request.
 *
 * The gate runs in this process, so its connections to the registry are this
 * process's sockets: counted from /proc (see `connectionsTo`).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { ociError, send, type RawResponse } from '../support/http.js';
import { annotated, OCI_MANIFEST } from '../support/registry-ops.js';
import { useStack } from '../support/stack.js';

const MIB = 1024 * 1024;
const ACCESS = {
  repositories: { '**': { anonymousPolicy: ['read'], policies: [{ users: ['admin'], actions: ['read', 'create', 'update', 'delete'] }] } },
};
const ACCEPT = { accept: OCI_MANIFEST };
/** How many requests the load tests run at once. */
const CONCURRENCY = 20;
/**
 * Connections kept alive after a load of CONCURRENCY requests at a time: one
 * each, plus a few for the instant when a connection just freed is not yet
 * back in the pool as the next request is dispatched.
 */
const KEPT_ALIVE_BOUND = CONCURRENCY + 5;

const unreachable = { code: 'UNAVAILABLE', message: 'the registry behind the gate cannot be reached; retry later', detail: { reason: 'upstream-unreachable', upstream: 'ECONNREFUSED' } };
const timedOut = (upstream: string) => ({ code: 'UNAVAILABLE', message: 'the registry behind the gate did not answer in time; retry later', detail: { reason: 'upstream-timeout', upstream } });
const brokeOff = (upstream: unknown) => ({ code: 'UNAVAILABLE', message: 'the registry behind the gate broke off its answer; retry later', detail: { reason: 'upstream-error', upstream } });
const tagUnknown = (what: string, upstream: unknown) => ({ code: 'UNAVAILABLE', message: `cannot tell ${what}; nothing was written, retry later`, detail: { reason: 'tag-state-unknown', upstream } });

/**
 * This process's TCP sockets connected (or connecting, or closing) to
 * 127.0.0.1:`port`: /proc/net/tcp rows whose remote port is `port` and whose
 * inode is one of /proc/self/fd's sockets. TIME_WAIT rows own no inode and
 * are not counted: they hold no file descriptor.
 */
function connectionsTo(port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1];
      if (inode !== undefined) inodes.add(inode);
    } catch {
      // closed between readdir and readlink
    }
  }
  let count = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const row of readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const fields = row.trim().split(/\s+/);
      const remotePort = Number.parseInt(fields[2]?.split(':')[1] ?? '', 16);
      if (remotePort === port && inodes.has(fields[9] ?? '')) count += 1;
    }
  }
  return count;
}

/** Settles when every task has run, at most `concurrency` at a time. */
async function inParallel<T>(tasks: ReadonlyArray<() => Promise<T>>, concurrency: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

/** A response's status and OCI error (null when its body is not one), for one comparison. */
function outcome(response: RawResponse): [number, unknown] {
  try {
    return [response.status, ociError(response)];
  } catch {
    return [response.status, null];
  }
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

describe('the registry stopped, then started again on the same port', () => {
  const stack = useStack({
    accessControl: ACCESS,
    // A digest DELETE first reads the tag list: one of the gate's own lookups.
    extra: { immutableTags: [{ repositories: ['app/**'], tags: ['v*'] }] },
    users: { admin: [] },
    image: { seed: 'upstream-down', tag: '1', pushTo: ['app/x:1'] },
  });
  const second = () => annotated(stack.image.manifest, { purpose: 'pushed while the registry is down' });
  const secondDigest = () => `sha256:${createHash('sha256').update(second()).digest('hex')}`;
  const admin = () => ({ authorization: stack.auth.admin });

  /** Every kind of request the gate answers from the registry, with what each gets while it is down and once it is back. */
  const requests = () =>
    [
      { name: 'GET manifest', method: 'GET', path: '/v2/app/x/manifests/1', headers: ACCEPT, down: [503, unreachable], up: 200 },
      { name: 'HEAD manifest', method: 'HEAD', path: '/v2/app/x/manifests/1', headers: ACCEPT, down: [503, null], up: 200 },
      { name: 'GET blob', method: 'GET', path: `/v2/app/x/blobs/${stack.image.layerDigest}`, headers: {}, down: [503, unreachable], up: 200 },
      { name: 'GET tag list', method: 'GET', path: '/v2/app/x/tags/list', headers: {}, down: [503, unreachable], up: 200 },
      { name: 'GET catalog', method: 'GET', path: '/v2/_catalog', headers: {}, down: [503, unreachable], up: 200 },
      { name: 'POST upload', method: 'POST', path: '/v2/app/x/blobs/uploads/', headers: admin(), down: [503, unreachable], up: 202 },
      {
        name: 'PUT manifest (asks the tag state first)',
        method: 'PUT',
        path: '/v2/app/x/manifests/2',
        headers: { ...admin(), 'content-type': OCI_MANIFEST },
        body: second(),
        down: [503, tagUnknown('whether tag "2" exists in "app/x"', 'ECONNREFUSED')],
        up: 201,
      },
      {
        name: 'DELETE manifest by digest (reads the tag list first)',
        method: 'DELETE',
        path: `/v2/app/x/manifests/${secondDigest()}`,
        headers: admin(),
        down: [503, tagUnknown(`which tags point at ${secondDigest()} in "app/x"`, 'tag list failed')],
        up: 202,
      },
    ] as const;

  const sendAll = () => inParallel(requests().map((r) => () => send(stack.gate.url, r)), 1);

  it('while it is down: each request gets its exact status and OCI error, healthz stays 200, readyz says why', async () => {
    await stack.registry.halt();
    const answers = await sendAll();
    expect(answers.map((a, i) => [requests()[i]!.name, ...outcome(a)])).toEqual(requests().map((r) => [r.name, ...r.down]));
    for (const answer of answers) expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    // a DELETE by tag asks nothing first: it is the write itself that fails
    const byTag = await send(stack.gate.url, { method: 'DELETE', path: '/v2/app/x/manifests/1', headers: admin() });
    expect(outcome(byTag)).toEqual([503, unreachable]);

    expect(outcome(await send(stack.gate.url, { path: '/-/healthz' }))).toEqual([200, null]);
    const ready = await send(stack.gate.url, { path: '/-/readyz' });
    expect([ready.status, ready.json()]).toEqual([503, { status: 'not-ready', upstream: `unreachable: connect ECONNREFUSED ${stack.registry.host}` }]);
  });

  it('200 failing requests leave no socket to the registry behind', async () => {
    const tasks = Array.from({ length: 200 }, (_, i) => () => send(stack.gate.url, requests()[i % requests().length]!));
    const answers = await inParallel(tasks, CONCURRENCY);
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([503]));
    expect(connectionsTo(stack.registry.port)).toBe(0);
  });

  it('once it is back, the same requests succeed with no restart of the gate, and the sockets stay bounded', async () => {
    await stack.registry.restart();
    const answers = await sendAll();
    expect(answers.map((a, i) => [requests()[i]!.name, a.status])).toEqual(requests().map((r) => [r.name, r.up]));
    expect((await send(stack.gate.url, { path: '/-/readyz' })).status).toBe(200);

    const reads = requests().filter((r) => r.method === 'GET' || r.method === 'HEAD');
    const many = await inParallel(Array.from({ length: 200 }, (_, i) => () => send(stack.gate.url, reads[i % reads.length]!)), CONCURRENCY);
    expect(new Set(many.map((a) => a.status))).toEqual(new Set([200]));
    // Kept alive for reuse: about one per request that ran at once (a leak would be one per request).
    expect(connectionsTo(stack.registry.port)).toBeLessThanOrEqual(KEPT_ALIVE_BOUND);
  });
});

describe('the registry restarts in the middle of a transfer', () => {
  const stack = useStack({ accessControl: ACCESS, users: { admin: [] } });
  const BIG = 64 * MIB;
  const blob = Buffer.alloc(BIG);
  for (let i = 0; i < BIG; i += 4096) blob.writeUInt32BE(i, i);
  const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;

  beforeAll(async () => {
    const started = await send(stack.registry.url, { method: 'POST', path: '/v2/big/blobs/uploads/' });
    const location = new URL(started.headers.location as string, stack.registry.url);
    location.searchParams.set('digest', digest);
    const put = await send(stack.registry.url, { method: 'PUT', path: `${location.pathname}${location.search}`, headers: { 'content-type': 'application/octet-stream' }, body: blob });
    expect(put.status, put.body).toBe(201);
  });

  it('a PATCH streamed slowly through the gate gets a 502 with an OCI error; the gate stays healthy', async () => {
    const gate = new URL(stack.gate.url);
    const started = await send(stack.gate.url, { method: 'POST', path: '/v2/big/blobs/uploads/', headers: { authorization: stack.auth.admin } });
    expect(started.status, started.body).toBe(202);
    const response = await new Promise<RawResponse>((resolve, reject) => {
      let answered = false;
      const patch = request(
        { host: gate.hostname, port: gate.port, method: 'PATCH', path: started.headers.location, agent: false, headers: { authorization: stack.auth.admin, 'content-type': 'application/octet-stream' } },
        (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body) as T });
          });
        },
      );
      // Once the answer is in, the rest of the body may meet a closed socket: that is not the failure under test.
      patch.on('error', (error) => void (answered || reject(error)));
      // 256 KiB every 50 ms; the registry is stopped after 10 chunks, and the body goes on until the gate answers.
      let sent = 0;
      const tick = setInterval(() => {
        if (sent === 10) void stack.registry.halt();
        if (sent === 40 || answered || patch.destroyed) {
          clearInterval(tick);
          patch.end();
          return;
        }
        patch.write(Buffer.alloc(256 * 1024, sent++));
      }, 50);
    });
    expect(response.status, response.body).toBe(502);
    expect(ociError(response)).toEqual(brokeOff(expect.stringMatching(/^(UND_ERR_SOCKET|ECONNRESET|EPIPE)$/)));
    expect((await send(stack.gate.url, { path: '/-/healthz' })).status).toBe(200);
  });

  it('a big blob GET whose registry stops mid-body is cut short, never ended as if complete', async () => {
    await stack.registry.restart();
    const gate = new URL(stack.gate.url);
    const outcome = await new Promise<{ headers: IncomingHttpHeaders; received: number; ending: string }>((resolve) => {
      const get = request({ host: gate.hostname, port: gate.port, path: `/v2/big/blobs/${digest}`, agent: false }, (res) => {
        let received = 0;
        const done = (ending: string) => resolve({ headers: res.headers, received, ending });
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received >= MIB && received - chunk.length < MIB) {
            // Hold the body back so most of it is still in the registry when it stops.
            res.pause();
            void stack.registry.halt().then(() => setTimeout(() => res.resume(), 200));
          }
        });
        res.on('end', () => done(res.complete ? 'complete' : 'ended short'));
        res.on('error', (error) => done(`error: ${error.message}`));
      });
      get.on('error', (error) => resolve({ headers: {}, received: 0, ending: `request error: ${error.message}` }));
      get.end();
    });
    expect(outcome.headers['content-length']).toBe(String(BIG));
    expect(outcome.ending).toBe('error: aborted');
    expect(outcome.received).toBeLessThan(BIG);
    expect((await send(stack.gate.url, { path: '/-/healthz' })).status).toBe(200);
  });

  it('after the restart, uploads and the same big download work through the same gate', async () => {
    await stack.registry.restart();
    const small = Buffer.from('after the restart');
    const smallDigest = `sha256:${createHash('sha256').update(small).digest('hex')}`;
    const started = await send(stack.gate.url, { method: 'POST', path: '/v2/big/blobs/uploads/', headers: { authorization: stack.auth.admin } });
    expect(started.status, started.body).toBe(202);
    const location = new URL(started.headers.location as string, stack.gate.url);
    location.searchParams.set('digest', smallDigest);
    const put = await send(stack.gate.url, {
      method: 'PUT',
      path: `${location.pathname}${location.search}`,
      headers: { authorization: stack.auth.admin, 'content-type': 'application/octet-stream' },
      body: small,
    });
    expect(put.status, put.body).toBe(201);

    const gate = new URL(stack.gate.url);
    const whole = await new Promise<string>((resolve, reject) => {
      const hash = createHash('sha256');
      request({ host: gate.hostname, port: gate.port, path: `/v2/big/blobs/${digest}`, agent: false }, (res) => {
        res.on('data', (chunk: Buffer) => hash.update(chunk));
        res.on('end', () => resolve(`sha256:${hash.digest('hex')}`));
        res.on('error', reject);
      })
        .on('error', reject)
        .end();
    });
    expect(whole).toBe(digest);
  });
});

describe('the registry answers garbage or drops the connection', () => {
  const stack = useStack({
    accessControl: ACCESS,
    hop: 'faults',
    users: { admin: [] },
    image: { seed: 'upstream-garbage', tag: '1', pushTo: ['app/y:1'] },
  });
  const admin = () => ({ authorization: stack.auth.admin });

  it.each<[string, { method: string; path: string | RegExp; answer: number | 'reset' }, () => { method: string; path: string; headers: Record<string, string>; body?: string }, [number, unknown]]>([
    [
      'a manifest PUT dropped after the tag lookup → 502',
      { method: 'PUT', path: '/v2/app/y/manifests/2', answer: 'reset' },
      () => ({ method: 'PUT', path: '/v2/app/y/manifests/2', headers: { ...admin(), 'content-type': OCI_MANIFEST }, body: stack.image.manifest }),
      [502, brokeOff('UND_ERR_SOCKET')],
    ],
    [
      'a manifest DELETE dropped → 502',
      { method: 'DELETE', path: /^\/v2\/app\/y\/manifests\//, answer: 'reset' },
      () => ({ method: 'DELETE', path: '/v2/app/y/manifests/1', headers: admin() }),
      [502, brokeOff('UND_ERR_SOCKET')],
    ],
    [
      'a catalog answered 500 → 502',
      { method: 'GET', path: '/v2/_catalog', answer: 500 },
      () => ({ method: 'GET', path: '/v2/_catalog', headers: {} }),
      [
        502,
        {
          code: 'UNAVAILABLE',
          message: 'the registry behind the gate could not list its repositories; retry later',
          detail: { reason: 'upstream-error', upstream: 'upstream answered 500 to _catalog' },
        },
      ],
    ],
    ['a catalog dropped → 502', { method: 'GET', path: '/v2/_catalog', answer: 'reset' }, () => ({ method: 'GET', path: '/v2/_catalog', headers: {} }), [502, brokeOff('UND_ERR_SOCKET')]],
    [
      'a manifest GET dropped → 502',
      { method: 'GET', path: '/v2/app/y/manifests/1', answer: 'reset' },
      () => ({ method: 'GET', path: '/v2/app/y/manifests/1', headers: ACCEPT }),
      [502, brokeOff('UND_ERR_SOCKET')],
    ],
  ])('%s', async (_name, fault, call, expected) => {
    stack.faults.inject(fault);
    try {
      expect(outcome(await send(stack.gate.url, call()))).toEqual(expected);
    } finally {
      stack.faults.heal();
    }
    expect((await send(stack.gate.url, { path: '/v2/app/y/manifests/1', headers: ACCEPT })).status).toBe(200);
  });
});

/** The 500 the `failing` fake answers: bigger than a response stream buffers, so an unread one holds its connection. */
const FAILURE_BODY = JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'the registry fell over', detail: 'x'.repeat(256 * 1024) }] });

/**
 * A broken registry, a fake by necessity (no real registry hangs or fails on
 * demand), on 127.0.0.1: `silent` reads every request and never answers;
 * `stall-body` answers a status line and headers, then nothing more;
 * `failing` answers every request 500 with a 256 KiB body, keeping the
 * connection alive (requests are taken to have no body: the gate sends none
 * here).
 */
async function startBrokenRegistry(mode: 'silent' | 'stall-body' | 'failing'): Promise<{ port: number; url: string; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      if (mode === 'silent') return;
      if (mode === 'stall-body') return void socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"tags":[');
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
        const head = pending.slice(0, end);
        pending = pending.slice(end + 4);
        const length = Buffer.byteLength(FAILURE_BODY);
        socket.write(`HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`);
        if (!head.startsWith('HEAD ')) socket.write(FAILURE_BODY);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('a registry that answers every request 500', () => {
  let broken: Awaited<ReturnType<typeof startBrokenRegistry>>;
  let gate: GateUnderTest;
  let authorization: string;

  beforeAll(async () => {
    broken = await startBrokenRegistry('failing');
    // A digest DELETE reads the tag list first: one more of the gate's own lookups.
    gate = await startGate({ upstream: broken.url, accessControl: ACCESS, extra: { immutableTags: [{ repositories: ['**'], tags: ['v*'] }] } });
    const { key } = await gate.store.create({ owner: 'admin', label: 'test', expiresAt: null, scopes: [], groups: [] });
    authorization = `Basic ${Buffer.from(`admin:${key}`).toString('base64')}`;
  });

  afterAll(async () => {
    await gate?.stop();
    await broken?.stop();
  });

  it('200 requests leave about one socket per concurrent request, not one per request: every 500 body is read or dropped', async () => {
    const digest = `sha256:${'1'.repeat(64)}`;
    const calls = [
      { method: 'GET', path: '/v2/_catalog', headers: {}, expected: [502, { code: 'UNAVAILABLE', message: 'the registry behind the gate could not list its repositories; retry later', detail: { reason: 'upstream-error', upstream: 'upstream answered 500 to _catalog' } }] },
      { method: 'DELETE', path: `/v2/app/x/manifests/${digest}`, headers: { authorization }, expected: [503, tagUnknown(`which tags point at ${digest} in "app/x"`, 'tag list failed')] },
      { method: 'GET', path: '/-/readyz', headers: {}, expected: [503, null] },
      // streamed through to the client, body and all
      { method: 'GET', path: '/v2/app/x/manifests/1', headers: ACCEPT, expected: [500, { code: 'UNKNOWN', message: 'the registry fell over', detail: 'x'.repeat(256 * 1024) }] },
    ] as const;
    const answers = await inParallel(Array.from({ length: 200 }, (_, i) => () => send(gate.url, calls[i % calls.length]!)), CONCURRENCY);
    // Only the answers that differ from their call's expectation, so a failure does not print 200 bodies of 256 KiB.
    const wrong = answers.flatMap((answer, i) => {
      const { method, path, expected } = calls[i % calls.length]!;
      return JSON.stringify(outcome(answer)) === JSON.stringify(expected) ? [] : [`${method} ${path}: ${answer.status}`];
    });
    expect(wrong).toEqual([]);
    expect(connectionsTo(broken.port)).toBeLessThanOrEqual(KEPT_ALIVE_BOUND);
  });
});

describe('a hung registry: requests end within upstream.timeout and release their sockets', () => {
  let hung: Awaited<ReturnType<typeof startBrokenRegistry>>;
  let gate: GateUnderTest;
  const admin = () => ({ authorization: `Basic ${Buffer.from(`admin:${adminKey}`).toString('base64')}` });
  let adminKey: string;

  beforeAll(async () => {
    hung = await startBrokenRegistry('silent');
    gate = await startGate({ upstream: hung.url, accessControl: ACCESS, extra: { upstream: { url: hung.url, timeout: '1s' } } });
    ({ key: adminKey } = await gate.store.create({ owner: 'admin', label: 'test', expiresAt: null, scopes: [], groups: [] }));
  });

  afterAll(async () => {
    await gate?.stop();
    await hung?.stop();
  });

  it('20 concurrent pulls get 504 within the 1 s timeout, a PUT a 503, and no socket stays open', async () => {
    const [answers, ms] = await timed(() => inParallel(Array.from({ length: 20 }, () => () => send(gate.url, { path: '/v2/app/x/manifests/1', headers: ACCEPT })), 20));
    expect(answers.map(outcome)).toEqual(Array.from({ length: 20 }, () => [504, timedOut('UND_ERR_HEADERS_TIMEOUT')]));
    expect(ms).toBeLessThan(3_000);

    const [put, putMs] = await timed(() => send(gate.url, { method: 'PUT', path: '/v2/app/x/manifests/1', headers: { ...admin(), 'content-type': OCI_MANIFEST }, body: '{}' }));
    expect(outcome(put)).toEqual([503, tagUnknown('whether tag "1" exists in "app/x"', 'UND_ERR_HEADERS_TIMEOUT')]);
    expect(putMs).toBeLessThan(3_000);

    await vi.waitFor(() => expect(connectionsTo(hung.port)).toBe(0), { timeout: 2_000 });
  });

  it('readyz says not ready within the timeout; healthz answers at once', async () => {
    const [ready, ms] = await timed(() => send(gate.url, { path: '/-/readyz' }));
    expect([ready.status, ready.json()]).toEqual([503, { status: 'not-ready', upstream: 'timeout: Headers Timeout Error' }]);
    expect(ms).toBeLessThan(3_000);
    const [healthy, healthMs] = await timed(() => send(gate.url, { path: '/-/healthz' }));
    expect(healthy.status).toBe(200);
    expect(healthMs).toBeLessThan(500);
  });
});

describe('a registry that stalls after its headers', () => {
  let hung: Awaited<ReturnType<typeof startBrokenRegistry>>;
  let gate: GateUnderTest;

  beforeAll(async () => {
    hung = await startBrokenRegistry('stall-body');
    gate = await startGate({
      upstream: hung.url,
      accessControl: ACCESS,
      extra: { upstream: { url: hung.url, timeout: '1s' }, immutableTags: [{ repositories: ['**'], tags: ['v*'] }] },
    });
  });

  afterAll(async () => {
    await gate?.stop();
    await hung?.stop();
  });

  it("the gate's own lookups give up within upstream.timeout, not the 5 min a streamed body may idle", async () => {
    const { key } = await gate.store.create({ owner: 'admin', label: 'test', expiresAt: null, scopes: [], groups: [] });
    const digest = `sha256:${'0'.repeat(64)}`;
    const [answer, ms] = await timed(() =>
      send(gate.url, { method: 'DELETE', path: `/v2/app/x/manifests/${digest}`, headers: { authorization: `Basic ${Buffer.from(`admin:${key}`).toString('base64')}` } }),
    );
    expect(outcome(answer)).toEqual([503, tagUnknown(`which tags point at ${digest} in "app/x"`, 'tag list failed')]);
    expect(ms).toBeLessThan(3_000);
    const [catalog, catalogMs] = await timed(() => send(gate.url, { path: '/v2/_catalog' }));
    expect(outcome(catalog)).toEqual([504, timedOut('UND_ERR_BODY_TIMEOUT')]);
    expect(catalogMs).toBeLessThan(3_000);
    await vi.waitFor(() => expect(connectionsTo(hung.port)).toBe(0), { timeout: 2_000 });
  });
});

describe('readiness against a hung registry with the default upstream.timeout (30 s)', () => {
  let hung: Awaited<ReturnType<typeof startBrokenRegistry>>;
  let gate: GateUnderTest;

  beforeAll(async () => {
    hung = await startBrokenRegistry('silent');
    gate = await startGate({ upstream: hung.url, accessControl: ACCESS });
  });

  afterAll(async () => {
    await gate?.stop();
    await hung?.stop();
  });

  it('answers not-ready within READY_TIMEOUT_MS (5 s), not after 30 s', async () => {
    const [ready, ms] = await timed(() => send(gate.url, { path: '/-/readyz' }));
    expect([ready.status, ready.json()]).toEqual([503, { status: 'not-ready', upstream: 'timeout: Headers Timeout Error' }]);
    expect(ms).toBeGreaterThanOrEqual(4_900);
    expect(ms).toBeLessThan(7_000);
  });
});
