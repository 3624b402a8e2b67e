/**
 * Browser sessions: the sealed `session` cookie (HttpOnly, SameSite=Lax,
 * Secure behind https, absolute lifetime `auth.session.maxAge`), zot's
 * readable `user` cookie for zot's UI, and the short-lived sealed cookie that
 * carries PKCE verifier, state and nonce from login to callback.
 *
 * Each session has a random id in its seal. Logout revokes the id on the
 * server (revoked-sessions.ts) before it answers, so a copy of the cookie
 * is no session afterwards, although its seal is good until it expires.
 */
import { randomBytes } from 'node:crypto';
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sessionStanding } from '../policy/session-revocation.js';
import type { SessionRevocations } from './revoked-sessions.js';
import { seal, unseal } from './seal.js';

export interface Session {
  /** random, sealed in the cookie: what logout revokes */
  readonly id: string;
  readonly user: string;
  readonly groups: readonly string[];
  readonly provider: string;
  /** the token the gate's own forms must echo */
  readonly csrf: string;
  /** epoch seconds */
  readonly expiresAt: number;
}

export interface LoginState {
  readonly provider: string;
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  readonly callbackUi: string;
}

export const SESSION_COOKIE = 'session';
export const USER_COOKIE = 'user';
const LOGIN_COOKIE = 'zot_gate_login';
/** How long a login may take, from the gate to the IdP and back: the login cookie's lifetime. */
export const LOGIN_LIFETIME_MS = 10 * 60_000;

export interface SessionOptions {
  readonly key: Uint8Array;
  readonly maxAgeMs: () => number;
  /** true when the client reached the gate over https */
  readonly secure: (request: FastifyRequest) => boolean;
  readonly now: () => Date;
  /** the sessions logout ended */
  readonly revoked: SessionRevocations;
}

export class Sessions {
  readonly #options: SessionOptions;

  constructor(options: SessionOptions) {
    this.#options = options;
  }

  /**
   * The session the request's cookie holds, or null: none, a bad or expired
   * seal, a cookie sealed before sessions had ids (it could not be revoked:
   * its user signs in again once), a session logout has ended, or any
   * session while the list of ended ones cannot be read (fail closed).
   */
  async read(request: FastifyRequest): Promise<Session | null> {
    const session = await this.#unseal(request);
    if (session === null) return null;
    let revoked: ReadonlySet<string>;
    try {
      revoked = this.#options.revoked.revokedIds();
    } catch {
      return null; // said once by the store, not once per request
    }
    return sessionStanding(session.id, revoked).ok ? session : null;
  }

  /**
   * Logout: revokes the request's session durably, then clears its cookies;
   * returns the session ended (null when there was none). Throws when the
   * revocation could not be recorded (revocationFailure says why), and then
   * clears nothing: the session was not ended, and the answer must not say so.
   */
  async end(request: FastifyRequest, reply: FastifyReply): Promise<Session | null> {
    // The seal alone: ending a session already revoked, or while the list does not read, must still be tried.
    const session = await this.#unseal(request);
    if (session !== null) await this.#options.revoked.revoke({ id: session.id, expiresAt: session.expiresAt }, Math.floor(this.#options.now().getTime() / 1000));
    this.clear(request, reply);
    return session;
  }

  async issue(request: FastifyRequest, reply: FastifyReply, who: { user: string; groups: readonly string[]; provider: string }): Promise<void> {
    const maxAgeMs = this.#options.maxAgeMs();
    const csrf = randomBytes(16).toString('base64url');
    const id = randomBytes(16).toString('base64url');
    const token = await seal({ i: id, u: who.user, g: [...who.groups], p: who.provider, c: csrf }, this.#options.key, this.#options.now(), maxAgeMs);
    const secure = this.#options.secure(request);
    const maxAge = Math.floor(maxAgeMs / 1000);
    reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge });
    // zot's UI reads who is logged in from this cookie; it carries no authority.
    reply.setCookie(USER_COOKIE, who.user, { path: '/', httpOnly: false, sameSite: 'lax', secure, maxAge });
  }

  clear(request: FastifyRequest, reply: FastifyReply): void {
    const secure = this.#options.secure(request);
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure });
    reply.clearCookie(USER_COOKIE, { path: '/', sameSite: 'lax', secure });
  }

  /** A well-sealed, unexpired session with an id, revoked or not. */
  async #unseal(request: FastifyRequest): Promise<Session | null> {
    const token = request.cookies[SESSION_COOKIE];
    if (token === undefined) return null;
    const payload = await unseal(token, this.#options.key, this.#options.now());
    if (payload === null || typeof payload.u !== 'string' || typeof payload.c !== 'string' || typeof payload.exp !== 'number') return null;
    const standing = sessionStanding(payload.i, new Set());
    if (!standing.ok) return null;
    const groups = Array.isArray(payload.g) ? payload.g.filter((g): g is string => typeof g === 'string') : [];
    return { id: standing.id, user: payload.u, groups, provider: typeof payload.p === 'string' ? payload.p : '', csrf: payload.c, expiresAt: payload.exp };
  }

  async startLogin(request: FastifyRequest, reply: FastifyReply, state: LoginState): Promise<void> {
    const token = await seal({ ...state }, this.#options.key, this.#options.now(), LOGIN_LIFETIME_MS);
    reply.setCookie(LOGIN_COOKIE, token, {
      path: '/zot/auth/callback',
      httpOnly: true,
      sameSite: 'lax',
      secure: this.#options.secure(request),
      maxAge: LOGIN_LIFETIME_MS / 1000,
    });
  }

  /** The login in progress, read once: the cookie is cleared whatever it held. */
  async finishLogin(request: FastifyRequest, reply: FastifyReply): Promise<LoginState | null> {
    const token = request.cookies[LOGIN_COOKIE];
    reply.clearCookie(LOGIN_COOKIE, { path: '/zot/auth/callback', httpOnly: true, sameSite: 'lax', secure: this.#options.secure(request) });
    if (token === undefined) return null;
    const p = await unseal(token, this.#options.key, this.#options.now());
    if (p === null) return null;
    const fields = [p.provider, p.state, p.nonce, p.verifier, p.callbackUi];
    if (!fields.every((f) => typeof f === 'string')) return null;
    return { provider: p.provider as string, state: p.state as string, nonce: p.nonce as string, verifier: p.verifier as string, callbackUi: p.callbackUi as string };
  }
}
