/**
 * buildServer(config, deps): registers everything and never listens, so
 * tests build the app and call `inject()` or `listen({port: 0})` themselves.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from './config/types.js';
import { AuthThrottling } from './http/auth-throttling.js';
import { bodyDeadline } from './http/body-deadline.js';
import { CONNECTION_BOUNDS, serverTimeouts, type ConnectionBounds } from './http/connection-bounds.js';
import { registryAdmission } from './http/admission.js';
import type { AuthDeps } from './http/authenticate.js';
import { healthRoutes } from './http/health.js';
import { refuseMalformedHost } from './http/origin.js';
import { sendOciError } from './http/oci-error.js';
import { frameworkRefused, methodNotSupported, respond, storeUnavailable, unhandled } from './http/respond.js';
import cookie from '@fastify/cookie';
import type { KeyStore } from './identity/apikey-store.js';
import { GateTokens } from './identity/gate-tokens.js';
import { TrustedIssuers } from './identity/trusted-issuers.js';
import type { TrustedJwtVerifier } from './identity/resolve.js';
import { tokenEndpoint } from './http/token-endpoint.js';
import { apikeyRoutes } from './sso/apikey-routes.js';
import { accountPlugin } from './sso/account-routes.js';
import { loginRoutes } from './sso/login-routes.js';
import { OidcClient } from './sso/oidc-client.js';
import { loadSessionKey } from './sso/session-key.js';
import { REVOKED_SESSIONS_FILE, RevokedSessions } from './sso/revoked-sessions.js';
import { sessionFailure, Sessions } from './sso/sessions.js';
import { forwardPlugin } from './proxy/forward.js';
import { clientProto } from './proxy/forwarded.js';
import { acceptedRequestId } from './policy/trusted-peer.js';
import { trustedPeers } from './http/trusted-peers.js';
import type { Reason } from './policy/types.js';
import { TagLocks } from './proxy/tag-locks.js';
import { UploadSessions } from './proxy/upload-sessions.js';
import type { Upstream } from './proxy/upstream.js';
import { AuditLog } from './observability/audit.js';
import { countKeyStates, GateMetrics } from './observability/metrics.js';
import { metricsEndpoint } from './http/metrics-endpoint.js';
import { observeRequests } from './observability/request-observer.js';
import { observeUpstream } from './observability/upstream-metrics.js';

export interface ServerDeps {
  readonly logger: FastifyBaseLogger;
  readonly upstream: Upstream;
  readonly apiKeys: KeyStore;
  /** verifies JWTs from `auth.trustedIssuers` (keyless CI) */
  readonly trusted?: TrustedJwtVerifier;
  readonly now?: () => Date;
  /** how long a client may stall (slowloris); CONNECTION_BOUNDS unless a test shortens them */
  readonly bounds?: ConnectionBounds;
}

export async function buildServer(config: Config, deps: ServerDeps): Promise<FastifyInstance> {
  let current = config;
  const now = deps.now ?? (() => new Date());
  const metrics = new GateMetrics({
    countKeys: async () => {
      try {
        return countKeyStates(await deps.apiKeys.list(), now(), current.auth.apikeyMaxLifetimeMs);
      } catch (error) {
        deps.logger.warn({ err: error }, 'API keys not counted for metrics');
        return null;
      }
    },
  });
  // Opened once: a changed audit.file takes a restart, not a SIGHUP.
  const audit = await AuditLog.open(config.audit.file);
  const upstream = observeUpstream(deps.upstream, metrics);
  const bounds = deps.bounds ?? CONNECTION_BOUNDS;
  const fromTrustedProxy = trustedPeers(config.auth.trustedProxies);
  const app = Fastify({
    // Headers, idle keep-alive, stalled sockets; never the length of a transfer that keeps moving.
    ...serverTimeouts(bounds),
    loggerInstance: deps.logger,
    // One line per request, written by the onResponse hook below with the decision in it.
    logController: new LogController({ disableRequestLogging: true }),
    // A trusted proxy's request id is kept, so logs join up with Caddy's; anyone else's is replaced,
    // or a client would pick the id its own audit events carry. Fixed here, as trustProxy is.
    genReqId: (req) => acceptedRequestId(req.headers['x-request-id'], fromTrustedProxy(req.socket.remoteAddress)) ?? randomUUID(),
    // Bodies are streamed, never parsed, on proxied routes; this bounds the gate's own JSON routes.
    bodyLimit: 1024 * 1024,
    // auth.trustedProxies (default loopback: Caddy beside the gate): X-Forwarded-For and -Proto are believed
    // from these peers only, and the client is the rightmost address in the chain that is not one of them
    // (proxy-addr walks from the socket leftwards). Fixed here: a change needs a restart.
    trustProxy: [...config.auth.trustedProxies],
    frameworkErrors: (error, request, reply) => {
      sendOciError(request, reply, frameworkRefused(error.message));
    },
  });

  // Bodies read whole (manifests, the gate's own routes) must arrive in time; see body-deadline.ts.
  const deadline = bodyDeadline(bounds.bodyMs);
  app.addHook('onRequest', deadline.onRequest);
  app.addHook('preParsing', deadline.preParsing);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    // Whoever authenticated, wherever they did: registry routes, the token endpoint (whom the token is for), /zot/auth/apikey.
    const identity = request.observation?.identity ?? request.gate?.identity;
    request.log.info(
      {
        method: request.method,
        // the path only: upload URLs carry distribution's `_state` in their query
        url: (request.raw.url ?? '').split('?')[0],
        status: reply.statusCode,
        user: identity?.kind === 'user' ? identity.name : null,
        reason: request.gateReason,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });
  // Before any plugin is registered, so that every route inherits the hooks.
  observeRequests(app, { metrics, audit, now });
  // Observed like any request, then refused before any route builds an origin from it.
  app.addHook('onRequest', refuseMalformedHost);
  app.addHook('onClose', async () => audit.close());

  app.setErrorHandler((error: Error & { statusCode?: number; reason?: Reason }, request, reply) => {
    // The key store (or the list of ended sessions, behind a browser session) could not be read or written:
    // the operator's problem, said without a path (apikey-file.ts, revoked-sessions.ts).
    const store = sessionFailure(error);
    if (store !== null) {
      request.log.error({ err: error }, 'API key store failed');
      return sendOciError(request, reply, storeUnavailable(store));
    }
    if ((error.statusCode ?? 500) >= 500) request.log.error({ err: error }, 'request failed');
    return sendOciError(request, reply, unhandled(error));
  });
  app.setNotFoundHandler((request, reply) => {
    sendOciError(request, reply, methodNotSupported(request.method));
  });

  await app.register(cookie);
  const sessions = new Sessions({
    key: await loadSessionKey(config.dataDir),
    maxAgeMs: () => current.auth.sessionMaxAgeMs,
    secure: (request) => current.externalUrl?.startsWith('https:') === true || clientProto(request) === 'https',
    now,
    // A session's groups are its user's as the key store recorded them at their latest login (as for API keys).
    groupsOf: (user) => deps.apiKeys.groupsOf(user),
    // Logout's revocations, durable in dataDir and shared with other gates on it.
    revoked: await RevokedSessions.open(join(config.dataDir, REVOKED_SESSIONS_FILE), {
      onReloadProblem: (problem) => {
        if (problem === null) deps.logger.info('revoked sessions read again; browser sessions accepted');
        else deps.logger.error({ problem: problem.message }, 'browser sessions refused until the revoked sessions read again');
      },
    }),
  });
  const providers = new Map((config.auth.openid?.providers ?? []).map((p) => [p.id, new OidcClient(p)] as const));
  healthRoutes(app, upstream, providers);
  // One throttle for every place that checks credentials (login callbacks too): failures count across them.
  const throttle = new AuthThrottling(metrics, now);
  // Built once: trusted issuers (and their key caches) change with a restart, not a SIGHUP.
  const trusted = deps.trusted ?? (config.auth.trustedIssuers.length > 0 ? new TrustedIssuers(config.auth.trustedIssuers) : undefined);
  // What every route that accepts credentials authenticates with (http/authenticate.ts).
  const auth: AuthDeps = { apiKeys: deps.apiKeys, gateTokens: await GateTokens.open(config.dataDir), sessions, now, throttle, ...(trusted ? { trusted } : {}) };
  loginRoutes(app, { config: () => current, providers, sessions, recordLogin: (user, groups, subject) => deps.apiKeys.recordLogin(user, groups, subject), throttle, now });
  await app.register(accountPlugin, { config: () => current, providers, sessions, keys: deps.apiKeys, now });
  await app.register(apikeyRoutes, { config: () => current, apiKeys: deps.apiKeys, now, auth });
  tokenEndpoint(app, { config: () => current, auth });
  metricsEndpoint(app, { config: () => current, metrics, auth });

  const shared = { config: () => current, upstream, locks: new TagLocks(), uploads: new UploadSessions() };
  await app.register(forwardPlugin, { ...shared, metrics, respond, onRequest: registryAdmission({ ...shared, auth }) });

  app.decorate('reloadConfig', (next: Config) => {
    current = next;
  });
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** swaps the config new requests see (SIGHUP) */
    reloadConfig(next: Config): void;
  }
}
