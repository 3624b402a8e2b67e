import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { startProcess, waitForUrl } from './process.js';
import type { ManagedProcess } from './process.js';
import { makeTempDir, removeDir } from './tmp.js';

/** A running CNCF distribution registry on 127.0.0.1, plain HTTP, no auth. */
export interface Registry {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  /** `127.0.0.1:PORT`, as image references spell it. */
  readonly host: string;
  readonly port: number;
  /** The storage root directory (storage.filesystem.rootdirectory). */
  readonly root: string;
  /** Stops the registry by PID and removes its directory. */
  stop(): Promise<void>;
}

// Another process can take the port between freePort() and the registry's bind.
const ATTEMPTS = 3;

/**
 * Starts `docker-registry serve` (distribution 2.8) with its config and
 * storage in a fresh temp dir, and waits until `GET /v2/` answers 200.
 * Deletes are enabled so tests can exercise DELETE; absolute upload URLs are
 * kept (the default), because the gate must handle them (FIELD-NOTES pitfall 1).
 */
export async function startRegistry(): Promise<Registry> {
  const dir = await makeTempDir('registry');
  const root = join(dir, 'storage');
  const configPath = join(dir, 'config.yml');
  try {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      await writeFile(configPath, registryConfig(root, port));
      const proc = await startProcess('docker-registry', ['serve', configPath]);
      const url = `http://127.0.0.1:${port}`;
      try {
        await waitForUrl(proc, `${url}/v2/`);
      } catch (error) {
        await proc.stop();
        if (attempt < ATTEMPTS && lostPort(proc)) continue;
        throw error;
      }
      const stop = async (): Promise<void> => {
        await proc.stop();
        await removeDir(dir);
      };
      return { url, host: `127.0.0.1:${port}`, port, root, stop };
    }
  } catch (error) {
    await removeDir(dir);
    throw error;
  }
}

function lostPort(proc: ManagedProcess): boolean {
  return proc.stderr().includes('address already in use');
}

// JSON strings are valid YAML scalars, so paths need no YAML escaping.
function registryConfig(root: string, port: number): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(root)}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: "127.0.0.1:${port}"`,
    // An explicit secret silences the "no HTTP secret" warning; uploads never span instances here.
    `  secret: "${randomBytes(16).toString('hex')}"`,
    '',
  ].join('\n');
}
