import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Creates a fresh directory under `os.tmpdir()` named after what uses it. */
export function makeTempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `zot-gate-${label}-`));
}

/** Removes a directory made by {@link makeTempDir}; a missing one is fine. */
export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
