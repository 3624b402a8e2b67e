/**
 * Lifecycle of `zot-gate serve` as a real process (issue 6 item 6): SIGHUP
 * applies a new policy to new requests without dropping a 256 MiB upload in
 * flight; SIGTERM lets that upload finish, then exits 0.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../harness/process.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { logsOf, serveWithCliKey, type ServedWithKey } from '../support/cli.js';
import { basic, send } from '../support/http.js';

const SIZE = 256 * 1024 * 1024;
let registry: Registry;
let work: string;
let blob: string;
let digest: string;

function configFor(port: number, upstream: string, anonymousRead: boolean) {
  return JSON.stringify({
    listen: { host: '127.0.0.1', port },
    upstream: { url: upstream },
    dataDir: './data',
    auth: { failDelay: 0 },
    accessControl: {
      repositories: {
        '**': { ...(anonymousRead ? { anonymousPolicy: ['read'] } : {}), policies: [{ groups: ['ci'], actions: ['read', 'create'] }] },
      },
    },
  });
}

beforeAll(async () => {
  registry = await startRegistry();
  work = await makeTempDir('lifecycle');
  blob = join(work, 'big.bin');
  // 256 MiB of a repeating pattern, written and hashed in 1 MiB steps.
  const hash = createHash('sha256');
  const out = createWriteStream(blob);
  const chunk = Buffer.alloc(1024 * 1024, 'zot-gate');
  for (let i = 0; i < SIZE / chunk.length; i++) {
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
  digest = `sha256:${hash.digest('hex')}`;
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  if (work) await removeDir(work);
});

const serve = (name: string): Promise<ServedWithKey> => serveWithCliKey(join(work, name), (port) => configFor(port, registry.url, true), { user: 'ci', groups: 'ci' });

/** Starts the upload of the big blob with curl, throttled so it lasts a few seconds. */
async function startUpload(gate: ServedWithKey, repository: string) {
  const start = await send(gate.url, { method: 'POST', path: `/v2/${repository}/blobs/uploads/`, headers: { authorization: basic('ci', gate.key) } });
  expect(start.status).toBe(202);
  const location = start.headers.location!;
  const target = `${gate.url}${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
  const started = Date.now();
  const done = run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--limit-rate', '64M', '-T', blob, '-u', `ci:${gate.key}`, '-H', 'Content-Type: application/octet-stream', target], { timeoutMs: 60_000 });
  return { done, started };
}

describe('serve lifecycle', () => {
  it('SIGHUP: the next decision follows the new policy while a 256 MiB upload completes', async () => {
    const gate = await serve('hup');
    try {
      const anonymousTags = () => send(gate.url, { path: '/v2/lifecycle/hup/tags/list' }).then((r) => r.status);
      expect(await anonymousTags()).toBe(404); // allowed: the registry has no such repository yet
      const upload = await startUpload(gate, 'lifecycle/hup');
      await new Promise((r) => setTimeout(r, 800));
      await writeFile(gate.configPath, configFor(Number(new URL(gate.url).port), registry.url, false));
      process.kill(gate.proc.pid, 'SIGHUP');
      await new Promise((r) => setTimeout(r, 300));
      expect(await anonymousTags()).toBe(401);
      // the line names what only a restart changes (issue 12); this file changed none of it
      const reloaded = logsOf(gate.proc).find((line) => String(line.msg).startsWith('config reloaded'));
      expect(reloaded).toMatchObject({
        restartNeeded: ['listen', 'upstream', 'dataDir', 'log.level', 'auth.openid.providers', 'auth.trustedIssuers', 'auth.trustedProxies', 'audit.file'],
        notApplied: [],
      });
      const result = await upload.done;
      expect(result.stdout).toBe('201');
      expect(Date.now() - upload.started).toBeGreaterThan(1_500); // it was in flight across the reload
      const head = await send(registry.url, { method: 'HEAD', path: `/v2/lifecycle/hup/blobs/${digest}` });
      expect(head.headers['content-length']).toBe(String(SIZE));
      // A broken config is refused; the previous policy stays.
      await writeFile(gate.configPath, '{ "upstream": 1 }');
      process.kill(gate.proc.pid, 'SIGHUP');
      await new Promise((r) => setTimeout(r, 300));
      expect(await anonymousTags()).toBe(401);
      expect(gate.proc.stderr()).toContain('config reload refused');
    } finally {
      await gate.proc.stop();
    }
  }, 90_000);

  it('SIGTERM during an upload: the upload completes, then the process exits 0', async () => {
    const gate = await serve('term');
    const upload = await startUpload(gate, 'lifecycle/term');
    await new Promise((r) => setTimeout(r, 800));
    process.kill(gate.proc.pid, 'SIGTERM');
    const result = await upload.done;
    expect(result.stdout).toBe('201');
    const status = await gate.proc.exited;
    expect(status).toEqual({ code: 0, signal: null });
    const head = await send(registry.url, { method: 'HEAD', path: `/v2/lifecycle/term/blobs/${digest}` });
    expect(head.status).toBe(200);
  }, 90_000);
});
