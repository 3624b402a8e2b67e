/**
 * pino JSON logs on stderr. Anything that could carry a secret is redacted at
 * the logger, so no call site has to remember.
 */
import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/types.js';

/** Paths pino censors wherever they appear in a log object. */
export const REDACT_PATHS = [
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
 * stderr, written asynchronously: a synchronous write per request line was a
 * sixth of the gate's busy time (issue 7). pino flushes it synchronously on
 * exit. Lines pile up in memory only while stderr is not being read, and at
 * most this much; past it they are dropped rather than stall the gate.
 * (Audit events with `audit.file` are written and synced on their own.)
 */
const MAX_PENDING_LOG_BYTES = 16 * 1024 * 1024;

export function createLogger(
  level: LogLevel,
  destination: pino.DestinationStream = pino.destination({ dest: 2, sync: false, maxLength: MAX_PENDING_LOG_BYTES }),
): Logger {
  return pino(
    {
      level,
      base: { service: 'zot-gate' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
