/**
 * Who is calling the gate's own endpoints (`/-/account`, `/zot/auth/apikey`).
 * A browser session counts only where cross-site requests cannot ride on it:
 * with zot's UI header (a custom header needs a CORS preflight the gate never
 * grants), or, for the account page's own forms, a same-origin POST carrying
 * the session's CSRF token. API keys count as for registry routes.
 */
import type { FastifyRequest } from 'fastify';
import { isZotUi } from '../http/origin.js';
import { parseAuthorization } from '../identity/credentials.js';
import { resolveIdentity, type AuthFailure, type ResolveDeps } from '../identity/resolve.js';
import type { Identity } from '../identity/types.js';
import type { Session, Sessions } from './sessions.js';

export type Caller =
  | { readonly kind: 'session'; readonly session: Session; readonly identity: Identity & { kind: 'user' } }
  | { readonly kind: 'apikey'; readonly identity: Identity & { kind: 'user' } }
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'refused'; readonly reason: AuthFailure };

export interface CallerDeps extends ResolveDeps {
  readonly sessions: Sessions;
}

/**
 * Credentials in `Authorization` win; without them, the session cookie counts
 * when `allowSession` says this request may use it.
 */
export async function callerOf(request: FastifyRequest, deps: CallerDeps, allowSession: (request: FastifyRequest) => boolean): Promise<Caller> {
  const credentials = parseAuthorization(request.raw.rawHeaders);
  if (!credentials.ok) return { kind: 'refused', reason: credentials.reason };
  if (credentials.credentials.kind !== 'none') {
    const resolved = await resolveIdentity(credentials.credentials, deps);
    if (!resolved.ok) return { kind: 'refused', reason: resolved.reason };
    const identity = resolved.identity;
    return identity.kind === 'user' ? { kind: 'apikey', identity } : { kind: 'anonymous' };
  }
  if (!allowSession(request)) return { kind: 'anonymous' };
  const session = await deps.sessions.read(request);
  if (session === null) return { kind: 'anonymous' };
  return { kind: 'session', session, identity: { kind: 'user', name: session.user, groups: session.groups, method: 'session' } };
}

/** zot's UI header: the rule for `/zot/auth/apikey` and registry routes. */
export const viaZotUi = (request: FastifyRequest): boolean => isZotUi(request);
