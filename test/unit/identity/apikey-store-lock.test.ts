/**
 * The cross-process lock the API key store takes around every mutation.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withFileLock } from '../../../src/identity/file-lock.js';

let dir: string;
let lockPath: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-lock-'));
  lockPath = join(dir, 'store.json.lock');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

function ownerText(fields: { pid: number; host: string; time: number }): string {
  return JSON.stringify({ ...fields, nonce: 'someone-else' });
}

describe('withFileLock', () => {
  it('lets one holder in at a time and releases the lock after each', async () => {
    let inside = 0;
    let most = 0;
    let counter = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        withFileLock(lockPath, async () => {
          inside += 1;
          most = Math.max(most, inside);
          const seen = counter;
          await sleep(3);
          counter = seen + 1;
          inside -= 1;
        }),
      ),
    );
    expect([counter, most]).toEqual([10, 1]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('records pid, host and time while held, and releases when the body throws', async () => {
    const failure = new Error('body failed');
    const held = withFileLock(lockPath, async () => {
      expect(JSON.parse(await readFile(lockPath, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
      throw failure;
    });
    await expect(held).rejects.toBe(failure);
    expect(await readdir(dir)).toEqual([]);
  });

  it.each([
    ['from another host, older than 10 s', () => ownerText({ pid: process.pid, host: 'other-host', time: Date.now() - 10_001 })],
    ['held by a dead pid on this host', () => ownerText({ pid: deadPid(), host: hostname(), time: Date.now() })],
  ])('takes over a lock %s', async (_, text) => {
    await writeFile(lockPath, text());
    const started = Date.now();
    expect(await withFileLock(lockPath, async () => 'ran', { timeoutMs: 1_000 })).toBe('ran');
    expect(Date.now() - started).toBeLessThan(500);
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over an unwritten lock file once its mtime is older than 10 s', async () => {
    await writeFile(lockPath, '');
    const old = new Date(Date.now() - 10_001);
    await utimes(lockPath, old, old);
    expect(await withFileLock(lockPath, async () => 'ran', { timeoutMs: 1_000 })).toBe('ran');
  });

  const live: [string, () => string, string][] = [
    ['a live pid on this host', () => ownerText({ pid: process.pid, host: hostname(), time: Date.now() }), `pid ${process.pid} on ${hostname()}`],
    // a stalled but live holder is never robbed: it could wake and rename stale content over a newer write
    ['a live pid on this host, however old', () => ownerText({ pid: process.pid, host: hostname(), time: Date.now() - 60_000 }), `pid ${process.pid} on ${hostname()}`],
    ['a dead pid on another host (its own pid namespace)', () => ownerText({ pid: deadPid(), host: 'other-host', time: Date.now() }), 'on other-host'],
    ['an unwritten lock file younger than 10 s', () => '', 'a process that has not written its pid yet'],
  ];

  it.each(live)('waits for %s and gives up with LOCK_TIMEOUT', async (_, text, holder) => {
    const content = text();
    await writeFile(lockPath, content);
    let ran = false;
    const error = await withFileLock(lockPath, async () => {
      ran = true;
    }, { timeoutMs: 120 }).catch((e: unknown) => e as Error & { code: string });
    expect(ran).toBe(false);
    expect(error).toMatchObject({ code: 'LOCK_TIMEOUT' });
    expect((error as Error).message).toContain(`${lockPath}: still locked after 120 ms by `);
    expect((error as Error).message).toContain(holder);
    expect(await readFile(lockPath, 'utf8')).toBe(content);
  });

  it('does not remove a lock that another process took over meanwhile', async () => {
    const usurper = ownerText({ pid: process.pid, host: hostname(), time: Date.now() });
    await withFileLock(lockPath, async () => {
      await writeFile(lockPath, usurper);
    });
    expect(await readFile(lockPath, 'utf8')).toBe(usurper);
  });
});
