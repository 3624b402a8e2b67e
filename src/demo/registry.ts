/**
 * The registry behind the demo gate: CNCF distribution (Debian's
 * `docker-registry`), which speaks the same OCI API as zot, or a zot the
 * user already runs.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GateError, isGateError } from '../errors.js';
import { startDaemon, waitUntilReady, type Daemon } from './daemon.js';

/** What the demo forwards to: a registry it started (with a PID), or the user's own. */
export interface DemoRegistry {
  readonly url: string;
  readonly daemon: Daemon | null;
}

export const NOT_INSTALLED = `docker-registry (CNCF distribution) is not installed. Install it with
  sudo apt-get install docker-registry
or run zot with no authentication on 127.0.0.1:5051 and point the demo at it:
  ZOT_GATE_DEMO_UPSTREAM=http://127.0.0.1:5051 npm run demo`;

/**
 * Starts `docker-registry serve` on 127.0.0.1:`port` with its storage in
 * `workDir`, and waits until `GET /v2/` answers 200. `onStarted` learns the
 * child before it is ready, so that a stop during start-up finds it.
 */
export async function startDistribution(workDir: string, port: number, onStarted: (daemon: Daemon) => Promise<void>): Promise<DemoRegistry> {
  const configFile = join(workDir, 'registry.yml');
  await writeFile(configFile, distributionConfig(join(workDir, 'registry'), port));
  let daemon: Daemon;
  try {
    daemon = await startDaemon('the registry', 'docker-registry', ['serve', configFile], join(workDir, 'registry.log'));
  } catch (error) {
    if (isGateError(error, 'DEMO_NOT_INSTALLED')) throw new GateError('DEMO_NOT_INSTALLED', NOT_INSTALLED, { cause: error });
    throw error;
  }
  await onStarted(daemon);
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(daemon, `${url}/v2/`);
  return { url, daemon };
}

/** A registry the user runs (zot with no auth): it must answer `GET /v2/` with 200 now. */
export async function useRunningRegistry(url: string): Promise<DemoRegistry> {
  const origin = URL.canParse(url) ? new URL(url).origin : 'null';
  if (!/^https?:\/\//.test(origin)) throw new GateError('DEMO_USAGE', `ZOT_GATE_DEMO_UPSTREAM: ${JSON.stringify(url)} is not an http(s) URL`);
  const status = await fetch(`${origin}/v2/`, { signal: AbortSignal.timeout(3_000) }).then(
    async (response) => {
      await response.body?.cancel();
      return String(response.status);
    },
    (error: unknown) => (error as Error).message,
  );
  if (status !== '200') {
    throw new GateError('DEMO_START_FAILED', `ZOT_GATE_DEMO_UPSTREAM: GET ${origin}/v2/ should answer 200 (a registry with no auth), got: ${status}`);
  }
  return { url: origin, daemon: null };
}

// JSON strings are valid YAML scalars, so the path needs no YAML escaping.
function distributionConfig(root: string, port: number): string {
  return [
    'version: 0.1',
    'log: { level: warn, accesslog: { disabled: true } }',
    `storage: { filesystem: { rootdirectory: ${JSON.stringify(root)} }, delete: { enabled: true } }`,
    // An explicit secret silences distribution's "no HTTP secret" warning.
    `http: { addr: "127.0.0.1:${port}", secret: "${randomBytes(16).toString('hex')}" }`,
    '',
  ].join('\n');
}
