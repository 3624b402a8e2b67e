/**
 * pino JSON logs on stderr. Anything that could carry a secret is redacted at
 * the logger, so no call site has to remember.
 */
import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/types.js';

/** Paths pino censors wherever they appear in a log object. */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.apiKey',
  '*.key',
  '*.token',
  '*.secret',
  '*.clientsecret',
];

/**
 * stderr, written asynchronously and in batches: a write per request line was
 * a sixth of the gate's busy time (issue 7). Lines are written once 8 KiB have
 * gathered or a quarter second has passed; a warning or an error at once; and
 * synchronously on exit (pino).
 * They pile up in memory only while stderr is not being read, and at most
 * 16 MiB; past that they are dropped rather than stall the gate. (Audit events
 * with `audit.file` are written and synced on their own, before the answer.)
 */
/** pino's number for `warn` */
const WARN = 40;
const LOG_BATCH = { minLength: 8 * 1024, periodicFlush: 250, maxLength: 16 * 1024 * 1024 };

export function createLogger(
  level: LogLevel,
  destination: pino.DestinationStream = pino.destination({ dest: 2, sync: false, ...LOG_BATCH }),
): Logger {
  return pino(
    {
      level,
      base: { service: 'zot-gate' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        logMethod(args, write, at) {
          write.apply(this, args);
          if (at >= WARN) (destination as { flush?: () => void }).flush?.();
        },
      },
    },
    destination,
  );
}
