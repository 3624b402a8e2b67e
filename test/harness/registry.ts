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
  /**
   * Stops the registry process by PID (SIGTERM: distribution without
   * `http.draintimeout` exits at once, cutting open connections), keeping its
   * storage, config and port for {@link Registry.restart}. Idempotent.
   */
  halt(): Promise<void>;
  /**
   * Starts the registry again (halting it first if it runs) on the same port,
   * with the same config (and HTTP secret) and storage, and waits until
   * `GET /v2/` answers 200. Rejects when the port was taken meanwhile.
   */
  restart(): Promise<void>;
  /** Stops the registry by PID and removes its directory. */
  stop(): Promise<void>;
}

// Another process can take the port between freePort() and the registry's bind.
const ATTEMPTS = 3;

/**
 * Starts `docker-registry serve` (distribution 2.8) with its config and
 * storage in a fresh temp dir, and waits until `GET /v2/` answers 200.
 * Deletes are enabled so tests can exercise DELETE; absolute upload URLs are
 * kept (the default): distribution builds them from `Host`, and the gate must
 * keep its clients' uploads coming through it.
 */
export async function startRegistry(): Promise<Registry> {
  const dir = await makeTempDir('registry');
  const root = join(dir, 'storage');
  const configPath = join(dir, 'config.yml');
  try {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      await writeFile(configPath, registryConfig(root, port));
      const url = `http://127.0.0.1:${port}`;
      let proc: ManagedProcess | null;
      try {
        proc = await serve(configPath, url);
      } catch (error) {
        if (attempt < ATTEMPTS && error instanceof LostPort) continue;
        throw error;
      }
      const halt = async (): Promise<void> => {
        const running = proc;
        proc = null;
        await running?.stop();
      };
      const restart = async (): Promise<void> => {
        await halt();
        proc = await serve(configPath, url);
      };
      const stop = async (): Promise<void> => {
        await halt();
        await removeDir(dir);
      };
      return { url, host: `127.0.0.1:${port}`, port, root, halt, restart, stop };
    }
  } catch (error) {
    await removeDir(dir);
    throw error;
  }
}

/** The registry could not bind its port: another process holds it. */
class LostPort extends Error {}

/** Starts `docker-registry serve` on `configPath` and waits until `GET url/v2/` answers 200. */
async function serve(configPath: string, url: string): Promise<ManagedProcess> {
  const proc = await startProcess('docker-registry', ['serve', configPath]);
  try {
    await waitForUrl(proc, `${url}/v2/`);
    return proc;
  } catch (error) {
    await proc.stop();
    if (proc.stderr().includes('address already in use')) throw new LostPort(`${url}: port taken`, { cause: error });
    throw error;
  }
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
