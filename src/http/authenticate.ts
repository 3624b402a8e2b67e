/**
 * The one authentication step, for every route that accepts credentials: the
 * registry hook (admission.ts), `GET /zot/auth/token`, `/zot/auth/apikey` and
 * `/-/metrics`. In this order:
 *
 * 1. parse the `Authorization` header (identity/credentials.ts);
 * 2. refuse a locked client before anything is checked (429, auth-throttling.ts);
 * 3. resolve the credentials to exactly one identity (identity/resolve.ts) or,
 *    without any, the browser session where the route counts it;
 * 4. note the identity, or the failure, for metrics, the audit trail and the log;
 * 5. after a failure, wait (zot's failDelay, growing) or lock (429);
 * 6. refuse: 401 with the route's challenge, or 503 when a trusted issuer's
 *    keys cannot be fetched (the token may be good).
 *
 * Routes differ only in a `RouteAuth`, all of them listed below side by side.
 * The account pages take no credentials: `browserSession` is theirs, and it
 * never resolves an `Authorization` header. Login callbacks are throttled too,
 * but check no credentials (sso/login-routes.ts, `LOGIN_CALLBACK`).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/types.js';
import { parseAuthorization, type Credentials } from '../identity/credentials.js';
import type { GateTokens } from '../identity/gate-tokens.js';
import { resolveIdentity, type ApiKeyVerifier, type AuthFailure, type Resolution, type TrustedJwtVerifier } from '../identity/resolve.js';
import type { Identity } from '../identity/types.js';
import { noteAuthFailure, noteIdentity } from '../observability/observation.js';
import type { Principal } from '../policy/types.js';
import type { Session, Sessions } from '../sso/sessions.js';
import type { AuthThrottling } from './auth-throttling.js';
import { sendOciError, type Challenge } from './oci-error.js';
import { isZotUi, publicOrigin, serviceOf } from './origin.js';
import { CLIENT_FACING, credentialsRefused } from './respond.js';

/** What authenticating needs; server.ts builds it once for every route. */
export interface AuthDeps {
  readonly apiKeys: ApiKeyVerifier;
  readonly gateTokens: GateTokens;
  readonly trusted?: TrustedJwtVerifier;
  readonly sessions: Sessions;
  readonly now: () => Date;
  readonly throttle: AuthThrottling;
}

/** How a route takes credentials. */
export interface RouteAuth {
  /**
   * What is resolved: `any` credentials (API keys, gate tokens, trusted JWTs);
   * `basic` only (an API key, or a trusted JWT as the password), a Bearer token
   * being refused as `bearer-at-token-endpoint`; or `api-key` only, gate tokens
   * and trusted JWTs not being verified there, so they fail as unknown tokens do.
   */
  readonly accepts: 'any' | 'basic' | 'api-key';
  /** without credentials, whether the browser session counts (with zot's UI header only) */
  readonly session: boolean;
  /** the failures this route names to the client in words; any other is "invalid credentials" */
  readonly told: Partial<Record<string, string>>;
  /** the message of the log line a refusal writes */
  readonly refusedLog: string;
}

/** Registry routes and `/-/metrics`: every identity a client can hold. */
export const REGISTRY_AUTH: RouteAuth = { accepts: 'any', session: true, told: CLIENT_FACING, refusedLog: 'authentication failed' };
/** `GET /zot/auth/token`: Basic credentials make a token, none an anonymous one; a token never makes another. */
export const TOKEN_AUTH: RouteAuth = { accepts: 'basic', session: false, told: {}, refusedLog: 'token refused' };
/** `/zot/auth/apikey`: zot's UI (the session) or an API key, as in zot. */
export const KEY_MANAGEMENT_AUTH: RouteAuth = { accepts: 'api-key', session: true, told: {}, refusedLog: 'authentication failed' };

export interface Authenticated {
  readonly identity: Identity;
  /** when the credential stops being valid (a key's effective expiry, a JWT's exp); null: no end of its own */
  readonly expiresAt: Date | null;
}

type Failure = AuthFailure | 'bearer-at-token-endpoint';
type Resolved = Extract<Resolution, { ok: true }> | { readonly ok: false; readonly reason: Failure; readonly detail?: string };

/**
 * The request's one identity (README, "How clients prove who they are"), or
 * null once refused credentials have been answered (429, 401, 503).
 * `challenge` is built only when a 401 needs it.
 */
export async function authenticate(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: AuthDeps,
  config: Config,
  route: RouteAuth,
  challenge: () => Challenge,
): Promise<Authenticated | null> {
  const credentials = parseAuthorization(request.raw.rawHeaders);
  if (deps.throttle.refuseLocked(request, reply, credentials) !== null) return null;
  const resolution = credentials.ok ? await resolve(credentials.credentials, request, deps, config, route.accepts) : credentials;
  if (!resolution.ok) {
    noteAuthFailure(request, resolution.reason);
    request.log.info({ authFailure: resolution.reason, ...('detail' in resolution ? { detail: resolution.detail } : {}) }, route.refusedLog);
    // zot's failDelay, growing with repeated failures, or a lock: on failures only.
    if ((await deps.throttle.failed(request, reply, credentials, resolution.reason, config)) !== null) return null;
    const refused = credentialsRefused(resolution.reason, route.told);
    sendOciError(request, reply, refused, refused.status === 401 ? challenge() : undefined);
    return null;
  }
  deps.throttle.succeeded(request, credentials, resolution.identity);
  const session = resolution.identity.kind === 'anonymous' && route.session && isZotUi(request) ? await deps.sessions.read(request) : null;
  const identity = session === null ? resolution.identity : sessionIdentity(session);
  noteIdentity(request, identity);
  return { identity, expiresAt: resolution.expiresAt ?? null };
}

function resolve(credentials: Credentials, request: FastifyRequest, deps: AuthDeps, config: Config, accepts: RouteAuth['accepts']): Promise<Resolved> {
  const maxKeyLifetimeMs = config.auth.apikeyMaxLifetimeMs;
  if (accepts === 'api-key') return resolveIdentity(credentials, { apiKeys: deps.apiKeys, now: deps.now, maxKeyLifetimeMs });
  if (accepts === 'basic' && credentials.kind === 'bearer') return Promise.resolve({ ok: false, reason: 'bearer-at-token-endpoint' });
  return resolveIdentity(credentials, { ...deps, maxKeyLifetimeMs, service: serviceOf(request, config) });
}

/**
 * The account pages' caller: the browser session, when the request presents
 * no credentials. Elsewhere credentials in `Authorization` win over the
 * cookie; here they are never resolved, so they count as no session. Cross-site
 * use is kept out by SameSite=Lax and the forms' CSRF token (account-routes.ts).
 */
export async function browserSession(request: FastifyRequest, sessions: Sessions): Promise<Session | null> {
  const credentials = parseAuthorization(request.raw.rawHeaders);
  if (!credentials.ok || credentials.credentials.kind !== 'none') return null;
  return sessions.read(request);
}

function sessionIdentity(session: Session): Identity {
  return { kind: 'user', name: session.user, groups: session.groups, method: 'session' };
}

/** Who the request is, as policy sees it. */
export function principalOf(identity: Identity): Principal {
  if (identity.kind === 'anonymous') return { name: null, groups: [] };
  return { name: identity.name, groups: identity.groups, ...(identity.scopes ? { scopes: identity.scopes } : {}) };
}

/** The challenge a registry 401 carries: the Docker token flow's Bearer (default), or zot's plain Basic. */
export function challengeFor(request: FastifyRequest, config: Config, scope?: string): Challenge {
  if (config.auth.challenge === 'basic') return basicChallenge(config);
  const realm = `${publicOrigin(request, config)}/zot/auth/token`;
  return { kind: 'bearer', realm, service: serviceOf(request, config), ...(scope !== undefined ? { scope } : {}) };
}

/** Basic, whatever `auth.challenge` says: for routes that take Basic credentials only (the token endpoint, `/zot/auth/apikey`). */
export function basicChallenge(config: Config): Challenge {
  return { kind: 'basic', realm: config.auth.realm };
}
