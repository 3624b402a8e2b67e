/**
 * Issue 2's acceptance, end to end: real distribution registry, real skopeo,
 * real containerd `ctr`, the real CLI in its own process, the gate in between.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startContainerd, type Containerd } from '../harness/containerd.js';
import { run } from '../harness/process.js';
import { pullToLayout, pushLayout } from '../harness/skopeo.js';
import { basic, ociError, send } from '../support/http.js';
import { cli } from '../support/cli.js';
import { useStack } from '../support/stack.js';

const accessControl = {
  repositories: {
    '**': { anonymousPolicy: ['read'], policies: [{ groups: ['artifact-workloads'], actions: ['read', 'create'] }] },
    'private/**': { policies: [{ groups: ['admins'], actions: ['read'] }] },
  },
  adminPolicy: { groups: ['admins'], actions: ['read', 'create', 'update', 'delete'] },
};

const stack = useStack({
  hop: 'recorder',
  accessControl,
  // Straight into the registry, around the gate: what pulls will find.
  image: { seed: 'base-image', tag: '1', pushTo: ['library/base:1'] },
  images: { pushed: { seed: 'app-image', tag: 'v1' } },
}, 120_000);

describe('anonymous pull through the gate', () => {
  it('skopeo pulls an image pushed straight to the upstream', async () => {
    const result = await pullToLayout(`${stack.gate.host}/library/base:1`, join(stack.work, 'pulled'));
    expect(result.code, result.stderr).toBe(0);
  });

  it("containerd's ctr pulls it too", async () => {
    const containerd: Containerd = await startContainerd();
    try {
      const result = await containerd.ctr(['images', 'pull', '--plain-http', '--snapshotter', 'native', `${stack.gate.host}/library/base:1`]);
      expect(result.code, result.stderr).toBe(0);
    } finally {
      await containerd.stop();
    }
  });

  it('an anonymous skopeo push fails with 401 and nothing reaches the upstream', async () => {
    stack.recorder.clear();
    const result = await pushLayout(stack.images.pushed.layoutDir, 'v1', `${stack.gate.host}/team/app:v1`);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/401|authentication required|unauthorized/i);
    expect(stack.recorder.requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD')).toEqual([]);
  });
});

describe('API-key push', () => {
  let key: string;

  beforeAll(async () => {
    const created = await cli(['apikey', 'create', '--user', 'ci', '--groups', 'artifact-workloads', '--config', stack.gate.configPath]);
    expect(created.code, created.stderr).toBe(0);
    key = created.stdout.trim();
  });

  it('the CLI prints a zot-format key alone on stdout', () => {
    expect(key).toMatch(/^zak_[0-9a-f]{32}$/);
  });

  it('skopeo pushes with ci:<key>, and every upload request goes through the gate', async () => {
    stack.recorder.clear();
    stack.gate.received.length = 0;
    const result = await pushLayout(stack.images.pushed.layoutDir, 'v1', `${stack.gate.host}/team/app:v1`, { username: 'ci', password: key });
    expect(result.code, result.stderr).toBe(0);

    const writes = stack.recorder.requests.filter((r) => ['POST', 'PATCH', 'PUT'].includes(r.method));
    expect(writes.map((r) => r.method)).toEqual(expect.arrayContaining(['POST', 'PUT']));
    expect(writes.some((r) => r.method === 'PUT' && r.url === '/v2/team/app/manifests/v1')).toBe(true);
    // Every upload request the upstream saw also came through the gate (no Location pointed around it).
    const viaGate = new Set(stack.gate.received.map((r) => `${r.method} ${r.url.split('?')[0]}`));
    for (const write of writes) expect(viaGate.has(`${write.method} ${write.url.split('?')[0]}`), write.url).toBe(true);
    // Credentials and cookies stop at the gate.
    for (const seen of stack.recorder.requests) {
      expect(seen.headers.authorization, seen.url).toBeUndefined();
      expect(seen.headers.cookie, seen.url).toBeUndefined();
    }
  });

  it('a Cookie and an Authorization sent with a request stop at the gate', async () => {
    stack.recorder.clear();
    const response = await send(stack.gate.url, {
      path: '/v2/library/base/manifests/1',
      headers: { authorization: basic('ci', key), cookie: 'session=abc; user=ci', accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(response.status).toBe(200);
    expect(stack.recorder.requests).toHaveLength(1);
    expect(stack.recorder.requests[0]!.headers.cookie).toBeUndefined();
    expect(stack.recorder.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('the pushed manifest is in the upstream, byte for byte', async () => {
    const response = await send(stack.registry.url, {
      path: '/v2/team/app/manifests/v1',
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(response.status).toBe(200);
    expect(response.headers['docker-content-digest']).toBe(stack.images.pushed.manifestDigest);
  });

  it.each([
    ['a wrong username', () => basic('someone-else', key)],
    ['a wrong key', () => basic('ci', 'zak_00000000000000000000000000000000')],
    ['a password that is not a key', () => basic('ci', 'hunter2')],
  ])('%s gets 401 UNAUTHORIZED, never anonymous access', async (_name, header) => {
    const response = await send(stack.gate.url, { path: '/v2/library/base/manifests/1', method: 'HEAD', headers: { authorization: header() } });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe(
      `Bearer realm="${stack.gate.url}/zot/auth/token",service="${stack.gate.host}",scope="repository:library/base:pull"`,
    );
    const get = await send(stack.gate.url, { path: '/v2/library/base/tags/list', headers: { authorization: header() } });
    expect(get.status).toBe(401);
    expect(ociError(get)).toEqual({ code: 'UNAUTHORIZED', message: 'invalid credentials', detail: { reason: 'invalid-credentials' } });
  });

  it('skopeo with a wrong key fails', async () => {
    const result = await pushLayout(stack.images.pushed.layoutDir, 'v1', `${stack.gate.host}/team/app:v2`, { username: 'ci', password: 'zak_00000000000000000000000000000000' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/401|unauthorized|invalid credentials/i);
  });

  it('no secret is ever logged', () => {
    const text = JSON.stringify(stack.gate.logs);
    expect(text).not.toContain(key);
    expect(text).not.toContain(Buffer.from(`ci:${key}`).toString('base64'));
  });

  it('after `apikey revoke` the running gate rejects the key within 5 s, with no restart', async () => {
    const listed = await cli(['apikey', 'list', '--user', 'ci', '--json', '--config', stack.gate.configPath]);
    expect(listed.code, listed.stderr).toBe(0);
    const [entry] = JSON.parse(listed.stdout).apiKeys as Array<{ uuid: string; owner: string }>;
    expect(entry?.owner).toBe('ci');

    const auth = { authorization: basic('ci', key) };
    expect((await send(stack.gate.url, { path: '/v2/', headers: auth })).status).toBe(200);
    const revoked = await cli(['apikey', 'revoke', '--id', entry!.uuid, '--config', stack.gate.configPath]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout.trim()).toBe(`revoked ${entry!.uuid}`);

    const started = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - started < 6_000) {
      status = (await send(stack.gate.url, { path: '/v2/', headers: auth })).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(401);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('uploads and header hygiene', () => {
  it('a curl PUT of a 2 MiB blob with Expect: 100-continue works', async () => {
    const { key } = await stack.gate.store.create({ owner: 'curl', label: 't', expiresAt: null, scopes: [], groups: ['artifact-workloads'] });
    const blob = Buffer.alloc(2 * 1024 * 1024, 7);
    const { createHash } = await import('node:crypto');
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const file = join(stack.work, 'blob.bin');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, blob);

    const start = await send(stack.gate.url, { method: 'POST', path: '/v2/team/blobs/blobs/uploads/', headers: { authorization: basic('curl', key) } });
    expect(start.status).toBe(202);
    const location = start.headers.location!;
    expect(location.startsWith('/v2/team/blobs/blobs/uploads/')).toBe(true);
    const sep = location.includes('?') ? '&' : '?';
    const put = await run('curl', [
      '-sS', '-o', '/dev/null', '-w', '%{http_code}',
      '-X', 'PUT', '-u', `curl:${key}`,
      '-H', 'Content-Type: application/octet-stream', '-H', 'Expect: 100-continue',
      '--data-binary', `@${file}`,
      `${stack.gate.url}${location}${sep}digest=${encodeURIComponent(digest)}`,
    ]);
    expect(put.stderr).toBe('');
    expect(put.stdout).toBe('201');
    const head = await send(stack.registry.url, { method: 'HEAD', path: `/v2/team/blobs/blobs/${digest}` });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(blob.length));
  });
});
