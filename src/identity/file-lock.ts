/**
 * A cross-process lock: a lock file created with O_EXCL, holding who took it
 * and when. The running gate and the `zot-gate apikey` command mutate the same
 * store file; each mutation holds this lock from its fresh read to its rename.
 *
 * A lock is stale, and taken over, when it is older than `staleMs` or when the
 * pid that holds it is dead on this host. Pids are only checked on the same
 * host name: a container sharing the volume has its own pid namespace.
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { GateError } from '../errors.js';

/** How long to wait, and when a holder counts as gone. */
export interface FileLockOptions {
  /** a lock older than this is taken over (default 10 s) */
  readonly staleMs?: number;
  /** give up with `LOCK_TIMEOUT` after this long (default 12 s, past `staleMs`) */
  readonly timeoutMs?: number;
  /** pause between attempts, jittered (default 20 ms) */
  readonly retryMs?: number;
}

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly time: number;
  readonly nonce: string;
}

/** How often a lock this process could not remove is tried again. */
const ORPHAN_RETRY_MS = 1_000;

/**
 * Nonces of locks this process holds no more but could not remove (the disk
 * went read-only under it). Its pid lives, so no other process takes them
 * over: this one does, as stale, and keeps trying to remove them meanwhile.
 */
const orphaned = new Set<string>();

/** Runs `fn` while holding the lock file `lockPath`; always releases it. */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const owner = await acquire(lockPath, options);
  try {
    return await fn();
  } finally {
    await release(lockPath, owner);
  }
}

async function acquire(lockPath: string, options: FileLockOptions): Promise<LockOwner> {
  const { staleMs = 10_000, timeoutMs = 12_000, retryMs = 20 } = options;
  const started = Date.now();
  for (;;) {
    const owner: LockOwner = { pid: process.pid, host: hostname(), time: Date.now(), nonce: randomBytes(8).toString('hex') };
    if (await tryCreate(lockPath, owner)) return owner;
    const held = await inspect(lockPath);
    if (held === null) continue; // released between our attempt and the read
    if (isStale(held, staleMs)) {
      await breakLock(lockPath, held.text);
      continue;
    }
    if (Date.now() - started >= timeoutMs) {
      throw new GateError(
        'LOCK_TIMEOUT',
        `${lockPath}: still locked after ${timeoutMs} ms by ${describe(held.owner)}; ` +
          'remove the file if no zot-gate process is using it',
      );
    }
    await sleep(retryMs / 2 + Math.random() * retryMs);
  }
}

async function tryCreate(lockPath: string, owner: LockOwner): Promise<boolean> {
  let file;
  try {
    file = await open(lockPath, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await file.writeFile(JSON.stringify(owner));
    await file.close();
  } catch (error) {
    // A full disk lets the empty file be made but not written. Left behind,
    // it would hold every writer off until it turns stale (`staleMs`).
    await file.close().catch(() => undefined);
    await unlink(lockPath).catch(() => undefined);
    throw error;
  }
  return true;
}

interface HeldLock {
  readonly text: string;
  /** null while the holder has created the file but not yet written it */
  readonly owner: LockOwner | null;
  readonly mtimeMs: number;
}

async function inspect(lockPath: string): Promise<HeldLock | null> {
  try {
    const [text, stats] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    return { text, owner: parseOwner(text), mtimeMs: stats.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function parseOwner(text: string): LockOwner | null {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    const { pid, host, time, nonce } = value;
    if (typeof pid === 'number' && typeof host === 'string' && typeof time === 'number' && typeof nonce === 'string') {
      return { pid, host, time, nonce };
    }
  } catch {
    // an empty or torn lock file: judged by its mtime alone
  }
  return null;
}

/**
 * A holder on this host is judged by whether it lives, never by age: a live
 * process that stalled (a paused VM, a sleeping laptop) could otherwise wake
 * and rename stale content over a newer write, bringing a revoked key back.
 * A holder on another host (a shared volume) can only be judged by age.
 * This process's own orphans are stale to it alone.
 */
function isStale(held: HeldLock, staleMs: number): boolean {
  if (held.owner !== null && orphaned.has(held.owner.nonce)) return true;
  if (held.owner !== null && held.owner.host === hostname()) return !isAlive(held.owner.pid);
  const since = held.owner?.time ?? held.mtimeMs;
  return Date.now() - since > staleMs;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes a stale lock out of the way. Renaming first means that of several
 * processes breaking the same lock, only the one whose rename moved the stale
 * content removes it; a process that moved a fresh lock instead puts it back.
 */
async function breakLock(lockPath: string, staleText: string): Promise<void> {
  const aside = `${lockPath}.${process.pid}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await readFile(aside, 'utf8').catch(() => staleText);
  // link, unlike rename, never replaces a lock someone took meanwhile
  if (moved !== staleText) await link(aside, lockPath).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

/**
 * Removes the lock only if it is still ours (it may have been taken over).
 * One that cannot be removed is orphaned and retried in the background: left
 * as it is, it would hold every other writer off for as long as we live.
 */
async function release(lockPath: string, owner: LockOwner): Promise<void> {
  try {
    const held = await inspect(lockPath);
    if (held?.owner?.nonce === owner.nonce) await unlink(lockPath);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
  }
  orphaned.add(owner.nonce);
  const retry = setInterval(() => {
    void removeOrphan(lockPath, owner.nonce).then((done) => {
      if (!done) return;
      clearInterval(retry);
      orphaned.delete(owner.nonce);
    });
  }, ORPHAN_RETRY_MS);
  retry.unref();
}

/** True once the orphan is gone (or was taken over); breaks it as a stale lock, since this process may be taking it too. */
async function removeOrphan(lockPath: string, nonce: string): Promise<boolean> {
  try {
    const held = await inspect(lockPath);
    if (held?.owner?.nonce === nonce) await breakLock(lockPath, held.text);
    return true;
  } catch {
    return false;
  }
}

function describe(owner: LockOwner | null): string {
  if (owner === null) return 'a process that has not written its pid yet';
  return `pid ${owner.pid} on ${owner.host} since ${new Date(owner.time).toISOString()}`;
}
