/**
 * Browser sessions: the sealed `session` cookie (HttpOnly, SameSite=Lax,
 * Secure behind https, absolute lifetime `auth.session.maxAge`), zot's
 * readable `user` cookie for zot's UI, and the short-lived sealed cookie that
 * carries PKCE verifier, state and nonce from login to callback.
 */
import { randomBytes } from 'node:crypto';
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { seal, unseal } from './seal.js';

export interface Session {
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
const LOGIN_LIFETIME_MS = 10 * 60_000;

export interface SessionOptions {
  readonly key: Uint8Array;
  readonly maxAgeMs: () => number;
  /** true when the client reached the gate over https */
  readonly secure: (request: FastifyRequest) => boolean;
  readonly now: () => Date;
}

export class Sessions {
  readonly #options: SessionOptions;

  constructor(options: SessionOptions) {
    this.#options = options;
  }

  async read(request: FastifyRequest): Promise<Session | null> {
    const token = request.cookies[SESSION_COOKIE];
    if (token === undefined) return null;
    const payload = await unseal(token, this.#options.key, this.#options.now());
    if (payload === null || typeof payload.u !== 'string' || typeof payload.c !== 'string' || typeof payload.exp !== 'number') return null;
    const groups = Array.isArray(payload.g) ? payload.g.filter((g): g is string => typeof g === 'string') : [];
    return { user: payload.u, groups, provider: typeof payload.p === 'string' ? payload.p : '', csrf: payload.c, expiresAt: payload.exp };
  }

  async issue(request: FastifyRequest, reply: FastifyReply, who: { user: string; groups: readonly string[]; provider: string }): Promise<void> {
    const maxAgeMs = this.#options.maxAgeMs();
    const csrf = randomBytes(16).toString('base64url');
    const token = await seal({ u: who.user, g: [...who.groups], p: who.provider, c: csrf }, this.#options.key, this.#options.now(), maxAgeMs);
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
