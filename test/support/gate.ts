/**
 * Starts a real gate in-process on 127.0.0.1:0 with a config file written to
 * a temp dir, so the CLI (a separate process) can share its data dir. It
 * starts as `serve` starts one (src/start.ts), logging into `logs`.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import type { ConnectionBounds } from '../../src/http/connection-bounds.js';
import type { ApiKeyStore } from '../../src/identity/apikey-store.js';
import { createLogger } from '../../src/observability/logger.js';
import { startGate as start } from '../../src/start.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';

export interface GateUnderTest {
  readonly url: string;
  /** `127.0.0.1:PORT`, for image references */
  readonly host: string;
  readonly config: Config;
  readonly configPath: string;
  readonly app: FastifyInstance;
  readonly store: ApiKeyStore;
  /** every log line the gate wrote, parsed */
  readonly logs: Array<Record<string, unknown>>;
  /** method and raw URL of every request the gate received */
  readonly received: Array<{ method: string; url: string }>;
  stop(): Promise<void>;
}

export interface GateOptions {
  readonly upstream: string;
  readonly accessControl: unknown;
  readonly failDelay?: number;
  readonly extra?: Record<string, unknown>;
  /** shorter connection bounds than production's (src/http/connection-bounds.ts) */
  readonly bounds?: ConnectionBounds;
  /**
   * The directory for the config file and `data/`, owned by the caller and
   * kept by stop(): a second gate started on it is the first one restarted.
   * Default: a fresh temp dir, removed by stop().
   */
  readonly dir?: string;
}

export async function startGate(options: GateOptions): Promise<GateUnderTest> {
  const dir = options.dir ?? (await makeTempDir('gate'));
  const configPath = join(dir, 'zot-gate.json');
  await writeFile(
    configPath,
    JSON.stringify({
      upstream: { url: options.upstream },
      dataDir: './data',
      auth: { failDelay: options.failDelay ?? 0 },
      accessControl: options.accessControl,
      ...options.extra,
    }),
  );
  const config = loadConfig(configPath);
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger('info', { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const received: Array<{ method: string; url: string }> = [];
  const gate = await start(config, {
    logger,
    listen: { host: '127.0.0.1', port: 0 },
    ...(options.bounds === undefined ? {} : { bounds: options.bounds }),
    prepare: (app) =>
      app.addHook('onRequest', async (request) => {
        received.push({ method: request.method, url: request.raw.url ?? '' });
      }),
  });
  const { app, apiKeys: store, port } = gate;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    config,
    configPath,
    app,
    store,
    logs,
    received,
    stop: async () => {
      await gate.stop();
      if (options.dir === undefined) await removeDir(dir);
    },
  };
}
