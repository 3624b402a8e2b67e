/**
 * Real disk faults for tests: a small tmpfs that can be filled or remounted
 * read-only (Linux, CAP_SYS_ADMIN), and the commands that set them up.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs a command; null when it exits 0, else why not, in words for a skip reason. */
export function sh(command: string, args: readonly string[]): string | null {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error !== undefined) return `${command} cannot run here (${result.error.message})`;
  if (result.status !== 0) return `\`${[command, ...args].join(' ')}\` failed (exit ${result.status}): ${result.stderr.trim()}`;
  return null;
}

export function must(problem: string | null): void {
  if (problem !== null) throw new Error(problem);
}

/** Why a small tmpfs cannot be mounted here, or null when it can (it needs Linux and CAP_SYS_ADMIN). */
export function tmpfsProblem(): string | null {
  if (process.platform !== 'linux') return `tmpfs needs Linux, this is ${process.platform}`;
  const dir = mkdtempSync(join(tmpdir(), 'zot-gate-tmpfs-probe-'));
  try {
    const problem = sh('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    if (problem === null) must(sh('umount', [dir]));
    return problem;
  } finally {
    rmdirSync(dir);
  }
}

/** Writes zeros to `path` until the filesystem is full. */
export async function fill(path: string): Promise<void> {
  const handle = await open(path, 'w');
  const chunk = Buffer.alloc(4096);
  try {
    for (;;) await handle.write(chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await handle.close();
  }
}
