/**
 * What a SIGHUP can and cannot apply. The running gate reads most of its
 * config per request (`app.reloadConfig` swaps it), but some sections are
 * built into objects once, at start, and only a restart changes them.
 */
import type { Config } from './types.js';

/**
 * The sections read once at start, each with where (server.ts, serve.ts):
 * - `listen`: the socket is bound once;
 * - `upstream`: the upstream pool is created for its origin and timeout;
 * - `dataDir`: the key store, the session key, the token signing key and the
 *   revoked sessions are opened from it;
 * - `log.level`: the logger is created once;
 * - `auth.openid.providers`: one OIDC client per provider (its discovery and
 *   keys cached), and the login routes built for them;
 * - `auth.trustedIssuers`: the JWT verifiers and their key caches;
 * - `auth.trustedProxies`: Fastify's `trustProxy` is fixed when the server is built;
 * - `audit.file`: the audit file is opened once.
 */
export const RESTART_NEEDED = [
  'listen',
  'upstream',
  'dataDir',
  'log.level',
  'auth.openid.providers',
  'auth.trustedIssuers',
  'auth.trustedProxies',
  'audit.file',
] as const;

export type RestartSection = (typeof RESTART_NEEDED)[number];

const VALUE: Readonly<Record<RestartSection, (config: Config) => unknown>> = {
  listen: (c) => c.listen,
  upstream: (c) => c.upstream,
  dataDir: (c) => c.dataDir,
  'log.level': (c) => c.log.level,
  'auth.openid.providers': (c) => c.auth.openid?.providers ?? [],
  'auth.trustedIssuers': (c) => c.auth.trustedIssuers,
  'auth.trustedProxies': (c) => c.auth.trustedProxies,
  'audit.file': (c) => c.audit.file,
};

/**
 * The sections in which `next` differs from the config the gate started with
 * (`started`, not the last reload: these sections still hold its values), and
 * so are not in force until a restart.
 */
export function notApplied(started: Config, next: Config): RestartSection[] {
  // Both come from normalize(), so their JSON has the same key order.
  return RESTART_NEEDED.filter((section) => JSON.stringify(VALUE[section](started)) !== JSON.stringify(VALUE[section](next)));
}
