/**
 * The OIDC relying party for one provider. Discovery is lazy and retried with
 * backoff: the gate starts, serves pulls and key pushes while the IdP is
 * down (it may run on a cluster that pulls its images through this very
 * registry), and picks the IdP up when it returns, with no restart.
 */
import { readFile } from 'node:fs/promises';
import * as client from 'openid-client';
import type { OpenIdProvider } from '../config/types.js';
import { GateError } from '../errors.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
/**
 * Seconds each request to the IdP may take: discovery, and — carried by the
 * discovered configuration (openid-client's `timeout`) — the code exchange at
 * the callback, userinfo and the ID token's JWKS. Only a login waits this long.
 */
export const IDP_TIMEOUT_SEC = 5;
const MIN_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;

export type IdpState = { readonly kind: 'ready' } | { readonly kind: 'unavailable'; readonly detail: string; readonly retryAt: number } | { readonly kind: 'unknown' };

export interface Clock {
  now(): number;
}

/** One configured provider, discovered on first use. */
export class OidcClient {
  readonly provider: OpenIdProvider;
  readonly #clock: Clock;
  #config: client.Configuration | null = null;
  #pending: Promise<client.Configuration> | null = null;
  #failures = 0;
  #state: IdpState = { kind: 'unknown' };

  constructor(provider: OpenIdProvider, clock: Clock = { now: () => Date.now() }) {
    this.provider = provider;
    this.#clock = clock;
  }

  get state(): IdpState {
    return this.#state;
  }

  /** The configuration if discovery has already succeeded; never asks the IdP. */
  discovered(): client.Configuration | null {
    return this.#config;
  }

  /**
   * The discovered configuration. While the IdP is unreachable this throws
   * `IDP_UNAVAILABLE` (503) at once, without a network call, until the
   * backoff (1 s doubling to 30 s) lets the next attempt through.
   */
  async configuration(): Promise<client.Configuration> {
    if (this.#config !== null) return this.#config;
    const state = this.#state;
    if (state.kind === 'unavailable' && this.#clock.now() < state.retryAt) throw unavailable(this.provider, state.detail);
    this.#pending ??= this.#discover().finally(() => {
      this.#pending = null;
    });
    return this.#pending;
  }

  async #discover(): Promise<client.Configuration> {
    try {
      const { clientid, clientsecret } = await readCredentials(this.provider.credentialsFile);
      const issuer = new URL(this.provider.issuer);
      const config = await client.discovery(issuer, clientid, clientsecret, undefined, {
        timeout: IDP_TIMEOUT_SEC,
        // http is accepted only for a loopback issuer (tests, the demo): config validation enforces it
        ...(issuer.protocol === 'http:' && LOOPBACK.has(issuer.hostname) ? { execute: [client.allowInsecureRequests] } : {}),
      });
      this.#config = config;
      this.#failures = 0;
      this.#state = { kind: 'ready' };
      return config;
    } catch (error) {
      if (error instanceof GateError && error.code === 'OIDC_CREDENTIALS') throw error;
      this.#failures += 1;
      const backoff = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** (this.#failures - 1));
      const detail = (error as Error).message;
      this.#state = { kind: 'unavailable', detail, retryAt: this.#clock.now() + backoff };
      throw unavailable(this.provider, detail, error);
    }
  }
}

/**
 * True for a failure of the IdP rather than of the login: no answer within
 * {@link IDP_TIMEOUT_SEC}, no connection (fetch's `TypeError: fetch failed`),
 * or a 5xx (a proxy in front of a down IdP). The user can only retry later.
 */
export function isIdpUnreachable(error: unknown): boolean {
  if (error instanceof TypeError && error.message === 'fetch failed') return true;
  if (error instanceof client.ClientError && (error.code === 'OAUTH_TIMEOUT' || error.code === 'OAUTH_ABORT')) return true;
  const status = error instanceof client.ResponseBodyError ? error.status : error instanceof client.ClientError && error.cause instanceof Response ? error.cause.status : 0;
  return status >= 500;
}

function unavailable(provider: OpenIdProvider, detail: string, cause?: unknown): GateError {
  return new GateError('IDP_UNAVAILABLE', `${provider.name} cannot be reached right now (${detail})`, { status: 503, cause });
}

/** zot's credentials file: `{"clientid": "...", "clientsecret": "..."}`. */
async function readCredentials(path: string): Promise<{ clientid: string; clientsecret: string }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new GateError('OIDC_CREDENTIALS', `cannot read the OIDC credentials file ${path}`, { status: 500, cause: error });
  }
  const { clientid, clientsecret } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof clientid !== 'string' || typeof clientsecret !== 'string' || clientid === '') {
    throw new GateError('OIDC_CREDENTIALS', `${path} must hold {"clientid": "…", "clientsecret": "…"}`, { status: 500 });
  }
  return { clientid, clientsecret };
}
