/**
 * Turns what was noted about each request (observation.ts) into metrics and
 * audit events, in hooks on the root instance:
 *
 * - `onSend`, before the first byte of the response: the audit event, if
 *   any, is logged and, with `audit.file`, the response is held back until
 *   the line is synced, so an answered request is never missing from the
 *   trail, even if the process is killed at once;
 * - `onResponse`: requests, durations, authentications and decisions are
 *   counted. A request the client abandons before its response ends has no
 *   `onResponse`, and is not counted.
 *
 * Register before any plugin, so every route inherits the hooks.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditLog } from './audit.js';
import { auditFactsOf } from './audit-events.js';
import type { GateMetrics } from './metrics.js';
import { observationOf } from './observation.js';

export interface ObserverDeps {
  readonly metrics: GateMetrics;
  readonly audit: AuditLog;
  readonly now: () => Date;
}

/** The gate's own endpoints, by the route pattern Fastify matched: labels, never raw paths. */
const OWN_ENDPOINTS: Readonly<Record<string, string>> = {
  '/-/healthz': 'healthz',
  '/-/readyz': 'readyz',
  '/-/metrics': 'gate-metrics',
  '/-/account': 'account',
  '/-/account/keys': 'account-keys',
  '/-/account/keys/revoke': 'account-keys-revoke',
  '/-/account/logout': 'account-logout',
  '/zot/auth/token': 'token',
  '/zot/auth/apikey': 'apikey',
  '/zot/auth/login': 'login',
  '/zot/auth/callback/:provider': 'login-callback',
  '/zot/auth/logout': 'logout',
};

export function observeRequests(app: FastifyInstance, deps: ObserverDeps): void {
  app.addHook('onRequest', async (request) => {
    // Read now: once undici has streamed a request body upstream it detaches the body from its
    // socket (undici util.destroy sets `socket = null`), and `request.ip` would throw.
    observationOf(request).client = request.ip;
  });

  // Responses that are not audit events go out at once, as without this hook. An audited one
  // waits for its line, so the reply is not `sent` when send() returns: every async hook and
  // handler that answers must return the reply (Fastify's rule, which the gate keeps).
  app.addHook('onSend', (request, reply, payload, done) => {
    const observation = request.observation;
    const facts = observation === undefined ? null : auditFactsOf(observation, request.method, reply.statusCode);
    if (facts === null) return done(null, payload);
    const event = { time: deps.now().toISOString(), ...facts, client: observation?.client ?? null, requestId: request.id };
    void deps.audit.record(event, request.log).then(() => done(null, payload));
  });

  app.addHook('onResponse', async (request, reply) => {
    const { metrics } = deps;
    metrics.request(routeLabel(request), request.method, reply.statusCode, reply.elapsedTime / 1000);
    const observation = request.observation;
    if (observation?.authMethod !== undefined) metrics.auth(observation.authMethod, observation.authFailure);
    const decision = observation?.decision;
    if (decision !== undefined) metrics.decision(decision.action, decision.allow, decision.reason);
  });
}

/** The route label: a RegistryRoute kind, `invalid`, an own endpoint's name, `other` for a gate route not named above, or `unmatched`. */
export function routeLabel(request: FastifyRequest): string {
  const registry = request.observation?.registry;
  if (registry !== undefined) return registry === 'invalid' ? 'invalid' : registry.route.kind;
  const pattern = request.routeOptions.url;
  if (pattern === undefined) return 'unmatched';
  return OWN_ENDPOINTS[pattern] ?? 'other';
}
