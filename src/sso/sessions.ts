/**
 * Browser sessions: the sealed `session` cookie (HttpOnly, SameSite=Lax,
 * Secure behind https, absolute lifetime `auth.session.maxAge` as configured
 * now, policy/session-lifetime.ts), zot's readable `user` cookie for zot's UI,
 * and the short-lived sealed cookie that carries PKCE verifier, state and
 * nonce from login to callback.
 *
 * Each session has a random id in its seal. Logout revokes the id on the
 * server (revoked-sessions.ts) before it answers, so a copy of the cookie
 * is no session afterwards, although its seal is good until it expires.
 *
 * The seal holds who, which session, which provider and when: never the
 * groups, which can be any number (browsers drop a cookie over 4096 bytes,
 * and the account page then sent the browser back to the IdP, in a loop).
 * A session's groups are its user's as the key store last recorded them
 * (their latest login), read on every request, as for API keys. Every cookie
 * is measured before it is set: one that would not fit is an error, never a
 * cookie the browser silently drops.
 */
import { randomBytes } from 'node:crypto';
import type { SerializeOptions as CookieOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GateError, isGateError } from '../errors.js';
import { storeFailure } from '../identity/apikey-file.js';
import { sessionExpiry, sessionLive } from '../policy/session-lifetime.js';
import { sessionStanding } from '../policy/session-revocation.js';
import type { FailureReason } from '../policy/types.js';
import { revocationFailure, type SessionRevocations } from './revoked-sessions.js';
import { seal, unseal } from './seal.js';

/** What the cookie's seal holds: enough to end the session, whatever the key store says. */
export interface SealedSession {
  /** random, sealed in the cookie: what logout revokes */
  readonly id: string;
  readonly user: string;
  readonly provider: string;
  /** the token the gate's own forms must echo */
  readonly csrf: string;
  /** epoch seconds, the seal's `iat` */
  readonly issuedAt: number;
  /** epoch seconds, the seal's `exp`: the ceiling, whatever maxAge says later */
  readonly sealedUntil: number;
}

export interface Session extends SealedSession {
  /** the user's groups as the key store holds them now (their latest login) */
  readonly groups: readonly string[];
  /** epoch seconds: issuedAt + the current maxAge, never past sealedUntil */
  readonly expiresAt: number;
}

export interface LoginState {
  readonly provider: string;
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  readonly callbackUi: string;
}

/** What browsers keep of one cookie at most, name, value and attributes (RFC 6265 §6.1); a larger one is dropped without a word. */
export const MAX_COOKIE_BYTES = 4096;

const SESSION_COOKIE = 'session';
const USER_COOKIE = 'user';
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
  /** a user's groups as last recorded at login (the key store's); throws while they cannot be read */
  readonly groupsOf: (user: string) => readonly string[];
}

export class Sessions {
  readonly #options: SessionOptions;

  constructor(options: SessionOptions) {
    this.#options = options;
  }

  /**
   * The session the request's cookie holds, or null: none, a bad seal, one
   * older than the current maxAge, a cookie sealed before sessions had ids
   * (it could not be revoked: its user signs in again once), or a session
   * logout has ended.
   *
   * Throws (a store's GateError, see {@link sessionFailure}) while the list
   * of ended sessions or the users' groups cannot be read: the session can
   * be neither trusted nor refused, and "no session" would send the browser
   * to sign in again, into the same wall, in a loop. Callers answer 503.
   */
  async read(request: FastifyRequest): Promise<Session | null> {
    const sealed = await this.#unseal(request);
    if (sealed === null) return null;
    const maxAgeMs = this.#options.maxAgeMs();
    if (!sessionLive(sealed, maxAgeMs, Math.floor(this.#options.now().getTime() / 1000))) return null;
    if (!sessionStanding(sealed.id, this.#options.revoked.revokedIds()).ok) return null;
    return { ...sealed, groups: this.#options.groupsOf(sealed.user), expiresAt: sessionExpiry(sealed, maxAgeMs) };
  }

  /**
   * Logout: revokes the request's session durably, then clears its cookies;
   * returns the session ended (null when there was none). Throws when the
   * revocation could not be recorded (revocationFailure says why), and then
   * clears nothing: the session was not ended, and the answer must not say so.
   */
  async end(request: FastifyRequest, reply: FastifyReply): Promise<SealedSession | null> {
    // The seal alone: ending a session already revoked, past a lowered maxAge (which may be raised again), or while
    // the lists do not read, must still be tried. Kept until the sealed expiry: no later maxAge reaches past it.
    const session = await this.#unseal(request);
    if (session !== null) await this.#options.revoked.revoke({ id: session.id, expiresAt: session.sealedUntil }, Math.floor(this.#options.now().getTime() / 1000));
    this.clear(request, reply);
    return session;
  }

  /**
   * Sets the session and `user` cookies; the groups are the key store's, not
   * sealed here. Throws `COOKIE_TOO_LARGE` and sets nothing when either would
   * not fit in a browser (only a username or provider id far beyond the
   * username rule's 256 characters could do that).
   */
  async issue(request: FastifyRequest, reply: FastifyReply, who: { user: string; provider: string }): Promise<void> {
    const maxAgeMs = this.#options.maxAgeMs();
    const csrf = randomBytes(16).toString('base64url');
    const id = randomBytes(16).toString('base64url');
    const token = await seal({ i: id, u: who.user, p: who.provider, c: csrf }, this.#options.key, this.#options.now(), maxAgeMs);
    const secure = this.#options.secure(request);
    const maxAge = Math.floor(maxAgeMs / 1000);
    const cookies: Array<[string, string, CookieOptions]> = [
      [SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge }],
      // zot's UI reads who is logged in from this cookie; it carries no authority.
      [USER_COOKIE, who.user, { path: '/', httpOnly: false, sameSite: 'lax', secure, maxAge }],
    ];
    for (const [name, value, options] of cookies) assertFits(request, name, value, options);
    for (const [name, value, options] of cookies) reply.setCookie(name, value, options);
  }

  clear(request: FastifyRequest, reply: FastifyReply): void {
    const secure = this.#options.secure(request);
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure });
    reply.clearCookie(USER_COOKIE, { path: '/', sameSite: 'lax', secure });
  }

  /**
   * A well-sealed session with an id, within its sealed expiry, revoked or
   * not, whatever the current maxAge. Groups a cookie sealed before they
   * moved to the key store still carries (`g`) are ignored.
   */
  async #unseal(request: FastifyRequest): Promise<SealedSession | null> {
    const token = request.cookies[SESSION_COOKIE];
    if (token === undefined) return null;
    const payload = await unseal(token, this.#options.key, this.#options.now());
    if (payload === null || typeof payload.u !== 'string' || typeof payload.c !== 'string' || typeof payload.exp !== 'number' || typeof payload.iat !== 'number') return null;
    const standing = sessionStanding(payload.i, new Set());
    if (!standing.ok) return null;
    return { id: standing.id, user: payload.u, provider: typeof payload.p === 'string' ? payload.p : '', csrf: payload.c, issuedAt: payload.iat, sealedUntil: payload.exp };
  }

  /**
   * Sets the login cookie. A `callbackUi` that would make it too large for a
   * browser (a path of thousands of characters) is dropped for `/`, as
   * policy/redirect.ts does with any doubtful one: the browser would drop the
   * cookie and the login would fail at the callback.
   */
  async startLogin(request: FastifyRequest, reply: FastifyReply, state: LoginState): Promise<void> {
    const options: CookieOptions = { path: '/zot/auth/callback', httpOnly: true, sameSite: 'lax', secure: this.#options.secure(request), maxAge: LOGIN_LIFETIME_MS / 1000 };
    let token = await seal({ ...state }, this.#options.key, this.#options.now(), LOGIN_LIFETIME_MS);
    if (!fits(request, LOGIN_COOKIE, token, options)) token = await seal({ ...state, callbackUi: '/' }, this.#options.key, this.#options.now(), LOGIN_LIFETIME_MS);
    assertFits(request, LOGIN_COOKIE, token, options);
    reply.setCookie(LOGIN_COOKIE, token, options);
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

/** Whether the Set-Cookie header for this cookie stays within what browsers keep. */
function fits(request: FastifyRequest, name: string, value: string, options: CookieOptions): boolean {
  return Buffer.byteLength(request.server.serializeCookie(name, value, options)) <= MAX_COOKIE_BYTES;
}

function assertFits(request: FastifyRequest, name: string, value: string, options: CookieOptions): void {
  if (fits(request, name, value, options)) return;
  const bytes = Buffer.byteLength(request.server.serializeCookie(name, value, options));
  throw new GateError('COOKIE_TOO_LARGE', `the ${name} cookie would be ${bytes} bytes, more than the ${MAX_COOKIE_BYTES} browsers keep`);
}

/** Why a session could not be checked or a login not stored, in words a client may see (no paths); null for other errors. */
export function sessionFailure(error: unknown): { readonly reason: FailureReason | 'cookie-too-large'; readonly problem: string } | null {
  if (isGateError(error, 'COOKIE_TOO_LARGE')) return { reason: 'cookie-too-large', problem: 'the session would not fit in a browser cookie' };
  return storeFailure(error) ?? revocationFailure(error);
}
