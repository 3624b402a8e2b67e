/** `zot-gate serve`: load, start (start.ts), close gracefully on SIGTERM, re-read the config on SIGHUP. */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { ConfigError, loadConfig } from '../config/load.js';
import { notApplied, RESTART_NEEDED } from '../config/reload.js';
import { configWarnings } from '../config/warnings.js';
import type { Config } from '../config/types.js';
import { createLogger } from '../observability/logger.js';
import { startGate } from '../start.js';
import { configFrom, parse } from './usage.js';

/** How long in-flight requests get to finish after SIGTERM. */
const DRAIN_MS = 30_000;

export async function serveCommand(args: string[]): Promise<number> {
  const config = configFrom(parse(args, {}));
  const logger = createLogger(config.log.level);
  for (const { subject, text } of configWarnings(config)) logger.warn({ subject, warning: text }, 'config warning');
  const gate = await startGate(config, { logger });
  // Logs go out in batches (logger.ts); the one line a supervisor waits for goes out now.
  logger.flush();

  process.on('SIGHUP', () => reloadOnHangup(gate.app, config, logger));

  return new Promise((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'stopping: draining in-flight requests');
      void gate.stop(DRAIN_MS).then(() => resolve(0), (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        resolve(1);
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/**
 * SIGHUP: re-reads the file the gate started from and swaps it in for new
 * requests, or refuses it with every problem. The line names every section
 * only a restart changes (`restartNeeded`) and those of them the file now
 * changes (`notApplied`), compared with `started`, which still holds them.
 */
export function reloadOnHangup(app: FastifyInstance, started: Config, logger: FastifyBaseLogger): void {
  let next: Config;
  try {
    next = loadConfig(started.source);
  } catch (error) {
    const problems = error instanceof ConfigError ? error.problems : [{ subject: '(file)', problem: String(error), rule: 'load' }];
    logger.error({ problems }, 'config reload refused; the previous config stays in force');
    return;
  }
  app.reloadConfig(next);
  const unapplied = notApplied(started, next);
  logger[unapplied.length > 0 ? 'warn' : 'info'](
    { config: started.source, restartNeeded: RESTART_NEEDED, notApplied: unapplied },
    `config reloaded; changes to ${RESTART_NEEDED.join(', ')} need a restart`,
  );
}
