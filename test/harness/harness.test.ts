/**
 * Self-test of the integration harness: every piece against the real thing —
 * distribution 2.8, skopeo 1.9, containerd 1.6 — on 127.0.0.1.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startContainerd } from './containerd.js';
import type { Containerd } from './containerd.js';
import { blobPath, buildImage, sha256 } from './images.js';
import type { BuildOptions, BuiltImage } from './images.js';
import { freePort } from './ports.js';
import { run, startProcess, waitForPort, waitUntil } from './process.js';
import type { RunResult } from './process.js';
import { startRecorder } from './recorder.js';
import type { Recorder, RecordedRequest } from './recorder.js';
import { startRegistry } from './registry.js';
import type { Registry } from './registry.js';
import { inspect, pullToLayout, pushLayout, skopeo, tagOf } from './skopeo.js';
import { tarStream } from './tar.js';
import type { TarFile } from './tar.js';
import { makeTempDir, removeDir } from './tmp.js';

const MIB = 1024 * 1024;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

let workDir: string;
beforeAll(async () => {
  workDir = await makeTempDir('harness-test');
});
afterAll(() => removeDir(workDir));

/** One request as a comparable line, upload session ids and state blanked. */
function line(request: RecordedRequest): string {
  return `${request.method} ${request.url.replace(/\/uploads\/[0-9a-f-]{36}\?_state=[^&]+/, '/uploads/{session}?_state={state}')}`;
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** GNU tar's verbose listing, whitespace-split, in UTC. */
async function listTar(args: readonly string[], input?: Buffer): Promise<string[][]> {
  const listed = await run('tar', args, { env: { ...process.env, TZ: 'UTC' }, ...(input === undefined ? {} : { input }) });
  expect(listed.stderr).toBe('');
  return listed.stdout.trim().split('\n').map((row) => row.split(/\s+/));
}

describe('freePort', () => {
  it('returns a port a listener on 127.0.0.1 can bind', async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const bound = (server.address() as { port: number }).port;
    await new Promise((resolve) => server.close(resolve));
    expect(bound).toBe(port);
  });
});

describe('process', () => {
  it.each([
    ['exit code and both streams', 'sh', ['-c', 'echo out; echo err >&2; exit 3'], undefined, { code: 3, stdout: 'out\n', stderr: 'err\n' }],
    ['stdin from a string', 'cat', [], 'abc', { code: 0, stdout: 'abc', stderr: '' }],
    ['stdin from a stream', 'wc', ['-c'], Readable.from([Buffer.alloc(MIB), Buffer.alloc(MIB)]), { code: 0, stdout: '2097152\n', stderr: '' }],
    ['death by SIGTERM is 128 + 15', 'sh', ['-c', 'kill -TERM $$'], undefined, { code: 143, stdout: '', stderr: '' }],
  ])('run: %s', async (_name, cmd, args, input, expected) => {
    expect(await run(cmd, args, input === undefined ? {} : { input })).toEqual(expected);
  });

  it.each([
    ['run past its timeout', () => run('sleep', ['10'], { timeoutMs: 200 }), 'sleep 10: did not finish within 200 ms'],
    ['a missing command', () => run('no-such-command-zot-gate', []), 'no-such-command-zot-gate: cannot start'],
  ])('run rejects %s', async (_name, attempt, message) => {
    await expect(attempt()).rejects.toThrow(message);
  });

  it('waitForPort fails with the child’s stderr when the child exits first', async () => {
    const proc = await startProcess('sh', ['-c', 'echo boom >&2; exit 3']);
    const port = await freePort();
    await expect(waitForPort(proc, port)).rejects.toThrow(
      `sh -c echo boom >&2; exit 3: exited (code 3) before 127.0.0.1:${port} accepting connections\n--- stderr ---\nboom\n`,
    );
  });

  const stubborn = "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)";
  it.each([
    ['SIGTERM ends a child that honours it', 'setInterval(() => {}, 1000); console.log("ready")', 'SIGTERM'],
    ['SIGKILL follows when SIGTERM is ignored', stubborn, 'SIGKILL'],
  ])('stop: %s', async (_name, script, signal) => {
    const proc = await startProcess(process.execPath, ['-e', script]);
    await waitUntil(proc, 'ready', async () => proc.stdout() === 'ready\n');
    await proc.stop(300);
    expect(proc.exitStatus()).toEqual({ code: null, signal });
  });

  it('keeps the last 64 KiB of a daemon’s output', async () => {
    const script = "process.stdout.write('a'.repeat(100000) + 'b'.repeat(65536)); setInterval(() => {}, 1000)";
    const proc = await startProcess(process.execPath, ['-e', script]);
    try {
      await waitUntil(proc, 'all output read', async () => proc.stdout().endsWith('b'.repeat(65536)));
      expect(proc.stdout()).toBe('b'.repeat(65536));
    } finally {
      await proc.stop();
    }
  });
});

describe('tarStream', () => {
  const file = (name: string, content: string): TarFile => ({ name, size: Buffer.byteLength(content), body: Buffer.from(content) });
  const longName = `d/${'n'.repeat(98)}`;

  it.each([
    ['one file', [file('hello.txt', 'hello')], [['-rw-r--r--', '0/0', '5', '1970-01-01', '00:00', 'hello.txt']]],
    [
      'an empty file, a block-sized one and a 100-byte name',
      [file('empty', ''), file('block', 'x'.repeat(512)), file(longName, 'z')],
      [
        ['-rw-r--r--', '0/0', '0', '1970-01-01', '00:00', 'empty'],
        ['-rw-r--r--', '0/0', '512', '1970-01-01', '00:00', 'block'],
        ['-rw-r--r--', '0/0', '1', '1970-01-01', '00:00', longName],
      ],
    ],
  ])('GNU tar lists %s', async (_name, files, listing) => {
    expect(await listTar(['-tvf', '-'], await collect(tarStream(files)))).toEqual(listing);
  });

  it.each([
    ['a body shorter than its size', [{ name: 'f', size: 4, body: Buffer.from('abc') }], 'tar: f: body has 3 bytes, header says 4'],
    ['a name over 100 bytes', [file(`${longName}x`, '')], `tar: name longer than 100 bytes: ${longName}x`],
  ])('refuses %s', async (_name, files, message) => {
    await expect(collect(tarStream(files))).rejects.toThrow(message);
  });
});

describe('buildImage', () => {
  const build = (name: string, opts: BuildOptions): Promise<BuiltImage> => buildImage(join(workDir, name), opts);

  it('writes a layout whose blobs match their digests and whose layer holds the seed', async () => {
    const image = await build('layout', { seed: 'layout', layerBytes: 3000, tag: 't1' });
    const index = JSON.parse(await readFile(join(image.layoutDir, 'index.json'), 'utf8'));
    const annotations = { 'org.opencontainers.image.ref.name': 't1' };
    expect(index.manifests).toEqual([{ mediaType: OCI_MANIFEST, digest: image.manifestDigest, size: image.manifest.length, annotations }]);
    expect(await readFile(join(image.layoutDir, 'oci-layout'), 'utf8')).toBe('{"imageLayoutVersion":"1.0.0"}');
    for (const digest of [image.manifestDigest, image.configDigest, image.layerDigest]) {
      expect(sha256(await readFile(blobPath(image.layoutDir, digest)))).toBe(digest);
    }
    expect(await readFile(blobPath(image.layoutDir, image.manifestDigest), 'utf8')).toBe(image.manifest);
    const head = 'zot-gate test layer, seed "layout"\n';
    const layer = blobPath(image.layoutDir, image.layerDigest);
    expect(await listTar(['-tzvf', layer])).toEqual([['-rw-r--r--', '0/0', String(head.length + 3000), '1970-01-01', '00:00', 'payload']]);
    expect((await run('sh', ['-c', 'tar -xzOf "$0" payload | head -n 1', layer])).stdout).toBe(head);
    const config = JSON.parse(await readFile(blobPath(image.layoutDir, image.configDigest), 'utf8'));
    const diffId = sha256(gunzipSync(await readFile(layer)));
    expect(config).toEqual({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [diffId] } });
  });

  it('is reproducible: the config digest depends only on seed and size', async () => {
    const image = await build('pinned', { seed: 'pinned', layerBytes: 1000 });
    expect(image.configDigest).toBe('sha256:ab5c1fd08edcb8f75db4436b5a775faf185ffc95587493ed8aee5730f6a262f1');
  });

  it.each([
    ['the same options', true, { seed: 's' }, { seed: 's' }],
    ['another tag (only index.json names it)', true, { seed: 's', tag: 'a' }, { seed: 's', tag: 'b' }],
    ['another seed', false, { seed: 's' }, { seed: 't' }],
    ['one more byte of padding', false, { seed: 's', layerBytes: 10 }, { seed: 's', layerBytes: 11 }],
  ])('%s: equal digests is %s', async (name, equal, a, b) => {
    const [first, second] = await Promise.all([build(`${name}-a`, a), build(`${name}-b`, b)]);
    const digests = (image: BuiltImage): string[] => [image.manifestDigest, image.configDigest, image.layerDigest];
    const same = digests(first).map((digest, i) => digest === digests(second)[i]);
    expect(same).toEqual([equal, equal, equal]);
  });
});

describe('skopeo.tagOf', () => {
  it.each([
    ['127.0.0.1:5000/a/b:v1', 'v1'],
    ['127.0.0.1:5000/a/b', undefined],
    [`127.0.0.1:5000/a/b@sha256:${'0'.repeat(64)}`, undefined],
  ])('%s → %s', (ref, tag) => {
    expect(tagOf(ref)).toBe(tag);
  });
});

describe('stop', () => {
  interface Started {
    readonly paths: string[];
    answers(): Promise<boolean>;
    stop(): Promise<void>;
  }
  const servers: [string, () => Promise<Started>][] = [
    [
      'registry',
      async () => {
        const registry = await startRegistry();
        const answers = (): Promise<boolean> => fetch(`${registry.url}/v2/`).then((response) => response.ok, () => false);
        return { paths: [dirname(registry.root)], answers, stop: () => registry.stop() };
      },
    ],
    [
      'containerd',
      async () => {
        const containerd = await startContainerd();
        const answers = async (): Promise<boolean> => (await containerd.ctr(['--connect-timeout', '1s', 'version'])).code === 0;
        return { paths: [containerd.address, dirname(containerd.address)], answers, stop: () => containerd.stop() };
      },
    ],
  ];

  it.each(servers)('ends the %s and removes its directory', async (_name, start) => {
    const server = await start();
    expect([await server.answers(), server.paths.filter(existsSync)]).toEqual([true, server.paths]);
    await server.stop();
    expect([await server.answers(), server.paths.filter(existsSync)]).toEqual([false, []]);
  });
});

describe('recorder', () => {
  it('answers 502 when the target refuses connections', async () => {
    const recorder = await startRecorder(`http://127.0.0.1:${await freePort()}`);
    try {
      const response = await fetch(`${recorder.url}/v2/`);
      expect(response.status).toBe(502);
      expect(recorder.requests.map(line)).toEqual(['GET /v2/']);
    } finally {
      await recorder.stop();
    }
  });
});

describe('real registry, skopeo and containerd', () => {
  let registry: Registry;
  let recorder: Recorder;
  let containerd: Containerd;
  let image: BuiltImage;
  const ref = (repo: string): string => `${recorder.host}/harness/${repo}`;

  beforeAll(async () => {
    [registry, containerd] = await Promise.all([startRegistry(), startContainerd()]);
    recorder = await startRecorder(registry.url);
    image = await buildImage(join(workDir, 'pushed'), { seed: 'harness', layerBytes: 3 * MIB, tag: 'v1' });
  });
  afterAll(async () => {
    await Promise.all([containerd?.stop(), recorder?.stop(), registry?.stop()]);
  });
  beforeEach(() => recorder.clear());

  const upload = (repo: string, digest: string): string[] => [
    `POST /v2/harness/${repo}/blobs/uploads/`,
    `PATCH /v2/harness/${repo}/blobs/uploads/{session}?_state={state}`,
    `PUT /v2/harness/${repo}/blobs/uploads/{session}?_state={state}&digest=${encodeURIComponent(digest)}`,
  ];

  it('skopeo pushes a layout; every upload request passes the recorder (Host kept)', async () => {
    const pushed = await pushLayout(image.layoutDir, 'v1', ref('push:v1'));
    expect(pushed.code).toBe(0);
    expect(recorder.requests.map(line)).toEqual([
      'GET /v2/',
      `HEAD /v2/harness/push/blobs/${image.layerDigest}`,
      `HEAD /v2/harness/push/blobs/${image.layerDigest}`,
      ...upload('push', image.layerDigest),
      `HEAD /v2/harness/push/blobs/${image.configDigest}`,
      ...upload('push', image.configDigest),
      'PUT /v2/harness/push/manifests/v1',
    ]);
    const patches = recorder.requests.filter((request) => request.method === 'PATCH');
    expect(patches.map((patch) => [patch.headers.host, patch.headers['content-length']])).toEqual([
      [recorder.host, String(image.layerSize)],
      [recorder.host, String(JSON.parse(image.manifest).config.size)],
    ]);
  });

  it('the registry serves the manifest’s exact bytes', async () => {
    const response = await fetch(`${registry.url}/v2/harness/push/manifests/v1`, { headers: { accept: OCI_MANIFEST } });
    const served = [response.status, response.headers.get('docker-content-digest'), await response.text()];
    expect(served).toEqual([200, image.manifestDigest, image.manifest]);
  });

  it('skopeo inspects it', async () => {
    const inspected = await inspect(ref('push:v1'));
    expect(inspected.code).toBe(0);
    expect(JSON.parse(inspected.stdout)).toMatchObject({ Digest: image.manifestDigest, RepoTags: ['v1'], Layers: [image.layerDigest] });
  });

  it('skopeo pulls it back into a layout, byte for byte', async () => {
    const dest = join(workDir, 'pulled');
    const pulled = await pullToLayout(ref('push:v1'), dest);
    expect(pulled.code).toBe(0);
    const index = JSON.parse(await readFile(join(dest, 'index.json'), 'utf8'));
    expect(index.manifests.map((m: { digest: string }) => m.digest)).toEqual([image.manifestDigest]);
    expect(await readFile(blobPath(dest, image.manifestDigest), 'utf8')).toBe(image.manifest);
    expect(sha256(await readFile(blobPath(dest, image.layerDigest)))).toBe(image.layerDigest);
  });

  // skopeo as root keeps a blob-info cache under /var/lib/containers that makes
  // later pushes try cross-repository mounts. The second row is the control: with a cache kept
  // across runs, skopeo does try the mount — so the first row can fail.
  it.each([
    ['isolated', false, () => ({})],
    ['cache-shared', true, () => ({ XDG_DATA_HOME: join(workDir, 'blob-info-cache') })],
  ])('skopeo %s: a second push to another repository tries a mount: %s', async (name, mounts, env) => {
    const push = (repo: string): Promise<RunResult> =>
      skopeo(['copy', '--dest-tls-verify=false', `oci:${image.layoutDir}:v1`, `docker://${ref(`${repo}:v1`)}`], env());
    expect((await push(`${name}-1`)).code).toBe(0);
    recorder.clear();
    expect((await push(`${name}-2`)).code).toBe(0);
    const layerQuery = mounts ? `?from=harness%2F${name}-1&mount=${encodeURIComponent(image.layerDigest)}` : '';
    expect(recorder.requests.filter((request) => request.method === 'POST').map(line)).toEqual([
      `POST /v2/harness/${name}-2/blobs/uploads/${layerQuery}`,
      `POST /v2/harness/${name}-2/blobs/uploads/`,
    ]);
  });

  it('ctr pulls it with the native snapshotter', async () => {
    const pulled = await containerd.pull(ref('push:v1'));
    expect(pulled.code).toBe(0);
    // containerd handles a manifest's children concurrently: compare sorted.
    expect(recorder.requests.map(line).sort()).toEqual(
      [
        `GET /v2/harness/push/blobs/${image.configDigest}`,
        `GET /v2/harness/push/blobs/${image.layerDigest}`,
        `GET /v2/harness/push/manifests/${image.manifestDigest}`,
        'HEAD /v2/harness/push/manifests/v1',
      ].sort(),
    );
    expect((await containerd.ctr(['images', 'ls', '-q'])).stdout).toBe(`${ref('push:v1')}\n`);
  });

  it('ctr pushes the pulled image to another repository, mounting its blobs', async () => {
    // The registry asks for no credentials, so ctr never sends them; the flag path is still exercised.
    const pushed = await containerd.push(ref('other:v2'), { local: ref('push:v1'), creds: { username: 'u', password: 'p' } });
    expect(pushed.code).toBe(0);
    expect(recorder.requests.map(line).sort()).toEqual(
      [
        `HEAD /v2/harness/other/blobs/${image.configDigest}`,
        `HEAD /v2/harness/other/blobs/${image.layerDigest}`,
        'HEAD /v2/harness/other/manifests/v2',
        `POST /v2/harness/other/blobs/uploads/?mount=${image.configDigest}&from=harness/push`,
        `POST /v2/harness/other/blobs/uploads/?mount=${image.layerDigest}&from=harness/push`,
        'PUT /v2/harness/other/manifests/v2',
      ].sort(),
    );
    expect(JSON.parse((await inspect(ref('other:v2'))).stdout).Digest).toBe(image.manifestDigest);
  });

  it('ctr imports a layout it never pulled and pushes it, uploading every blob', async () => {
    const fresh = await buildImage(join(workDir, 'imported'), { seed: 'harness-import', layerBytes: MIB, tag: 'v3' });
    expect(await containerd.importLayout(fresh.layoutDir, ref('imported:v3'))).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await containerd.push(ref('imported:v3'))).code).toBe(0);
    const put = (digest: string): string =>
      `PUT /v2/harness/imported/blobs/uploads/{session}?_state={state}&digest=${encodeURIComponent(digest)}`;
    expect(recorder.requests.map(line).sort()).toEqual(
      [
        `HEAD /v2/harness/imported/blobs/${fresh.configDigest}`,
        `HEAD /v2/harness/imported/blobs/${fresh.layerDigest}`,
        'HEAD /v2/harness/imported/manifests/v3',
        'POST /v2/harness/imported/blobs/uploads/',
        'POST /v2/harness/imported/blobs/uploads/',
        put(fresh.configDigest),
        put(fresh.layerDigest),
        'PUT /v2/harness/imported/manifests/v3',
      ].sort(),
    );
    expect(JSON.parse((await inspect(ref('imported:v3'))).stdout).Digest).toBe(fresh.manifestDigest);
  });
});
