/**
 * startGate(config, options): the one way a gate starts. `serve`, the demo
 * and the tests (and so the bench, which runs `serve`) all come through here,
 * so what a test runs is what an operator runs: open the API-key store,
 * create the upstream pool, build the server (server.ts, which never
 * listens), listen. `stop()` undoes it in the reverse order.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config/types.js';
import type { ConnectionBounds } from './http/connection-bounds.js';
import { ApiKeyStore, keyStorePath } from './identity/apikey-store.js';
import { createUpstream, type Upstream } from './proxy/upstream.js';
import { buildServer } from './server.js';

export interface StartOptions {
  /** the gate's log; the key store's background problems are told here too */
  readonly logger: Logger;
  /** where to listen: `config.listen` unless given (tests take port 0 on loopback) */
  readonly listen?: { readonly host: string; readonly port: number };
  /** shorter connection bounds than production's (http/connection-bounds.ts), for tests */
  readonly bounds?: ConnectionBounds;
  /** runs on the built app before it listens, when hooks can still be added (a test records what the gate received) */
  readonly prepare?: (app: FastifyInstance) => void;
}

export interface RunningGate {
  readonly app: FastifyInstance;
  readonly apiKeys: ApiKeyStore;
  /** what the server listens on, e.g. `http://127.0.0.1:5050` */
  readonly address: string;
  /** the port bound: the one the kernel chose when asked for port 0 */
  readonly port: number;
  /**
   * Stops taking connections and lets requests in flight (uploads included)
   * finish: for at most `drainMs` when given, then the connections left are
   * closed. Then the key store's pending `lastUsedAt` writes, then the
   * upstream pool.
   */
  stop(drainMs?: number): Promise<void>;
}

export async function startGate(config: Config, options: StartOptions): Promise<RunningGate> {
  const { logger } = options;
  const apiKeys = await openKeyStore(config, logger);
  const upstream = createUpstream(config.upstream.origin, config.upstream.timeoutMs);
  let app: FastifyInstance | undefined;
  try {
    app = await buildServer(config, { logger, upstream, apiKeys, ...(options.bounds === undefined ? {} : { bounds: options.bounds }) });
    options.prepare?.(app);
    const { host, port } = options.listen ?? config.listen;
    const address = await app.listen({ host, port });
    logger.info({ address, upstream: config.upstream.origin, config: config.source }, 'zot-gate listening');
    const bound = (app.server.address() as { port: number }).port;
    const running = app;
    return { app: running, apiKeys, address, port: bound, stop: (drainMs) => stop(running, apiKeys, upstream, logger, drainMs) };
  } catch (error) {
    // Nothing is left open behind a gate that did not start (a port in use, a bad audit file).
    await (app === undefined ? Promise.all([apiKeys.flush(), upstream.close()]) : stop(app, apiKeys, upstream, logger)).catch(() => undefined);
    throw error;
  }
}

/** Throws, naming the file and the problem, rather than start with an empty store over a bad file. */
function openKeyStore(config: Config, logger: Logger): Promise<ApiKeyStore> {
  const file = keyStorePath(config);
  return ApiKeyStore.open(file, {
    onFlushError: (error) => logger.warn({ err: error }, 'could not record API key use'),
    // the message only: a JSON error's cause quotes the file
    onReloadProblem: (problem) =>
      problem === null
        ? logger.info({ file }, 'API key store reads again; API keys are accepted')
        : logger.error({ file, problem: problem.message }, 'API key store unreadable; API keys are refused until it is fixed, and it is not written over'),
  });
}

async function stop(app: FastifyInstance, apiKeys: ApiKeyStore, upstream: Upstream, logger: Logger, drainMs?: number): Promise<void> {
  if (drainMs !== undefined) {
    const force = setTimeout(() => {
      logger.warn('drain deadline passed; closing remaining connections');
      app.server.closeAllConnections();
    }, drainMs);
    force.unref();
  }
  await app.close();
  await apiKeys.flush();
  await upstream.close();
}
