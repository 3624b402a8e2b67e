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

export function createLogger(level: LogLevel, destination: pino.DestinationStream = pino.destination({ dest: 2, sync: false })): Logger {
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
