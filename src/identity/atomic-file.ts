/**
 * Crash-safe replacement of small files: write a temp file beside the target,
 * fsync it, rename it over the target, fsync the directory. A reader sees the
 * old content or the new one, never a mix; after the directory fsync the new
 * content survives a power loss.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** What identifies one version of a file: a rename brings a new inode. */
export interface FileStamp {
  readonly mtimeMs: number;
  readonly size: number;
  readonly ino: number;
}

/** True when both stamps describe the same version of a file. */
export function sameStamp(a: FileStamp | null, b: FileStamp | null): boolean {
  if (a === null || b === null) return a === b;
  return a.mtimeMs === b.mtimeMs && a.size === b.size && a.ino === b.ino;
}

function tempPrefix(path: string): string {
  return `.${basename(path)}.`;
}

/**
 * Atomically replaces `path` with `data`, readable only by `mode` (0600 by
 * default). Resolves once the new content is durable.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `${tempPrefix(path)}${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(temp, 'wx', mode);
  try {
    // the umask may have narrowed `mode` at creation; set it exactly
    await file.chmod(mode);
    await file.writeFile(data);
    await file.sync();
    await file.close();
    await rename(temp, path);
  } catch (error) {
    await file.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dir);
}

/** fsync a directory so that a rename inside it is durable (POSIX). */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Removes temp files a crashed `writeFileAtomic(path, …)` left behind. Only
 * safe while no other writer of `path` can be running, i.e. under its lock.
 * Returns how many were removed.
 */
export async function removeTempFiles(path: string): Promise<number> {
  const prefix = tempPrefix(path);
  const names = await readdir(dirname(path));
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    await unlink(join(dirname(path), name)).catch(() => undefined);
    removed += 1;
  }
  return removed;
}

/** The stamp of `path` as it is now, or null when it does not exist. */
export function statStampSync(path: string): FileStamp | null {
  const stats = statSync(path, { throwIfNoEntry: false });
  return stats === undefined ? null : { mtimeMs: stats.mtimeMs, size: stats.size, ino: stats.ino };
}

/**
 * Reads a file and the stamp of the very version read (fstat on the same
 * descriptor), or null when it does not exist. Synchronous on purpose: it
 * serves per-request lookups of a small file that is re-read only on change.
 */
export function readFileStampedSync(path: string): { text: string; stamp: FileStamp } | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const stats = fstatSync(fd);
    const text = readFileSync(fd, 'utf8');
    return { text, stamp: { mtimeMs: stats.mtimeMs, size: stats.size, ino: stats.ino } };
  } finally {
    closeSync(fd);
  }
}

/**
 * Parses a JSON file, or returns null when it does not exist. Any other
 * failure (unreadable, not JSON) is thrown for the caller to classify.
 */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  return JSON.parse(text) as unknown;
}
