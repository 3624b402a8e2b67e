/**
 * The OIDC relying party for one provider. Discovery is lazy and retried with
 * backoff: the gate starts, serves pulls and key pushes while the IdP is
 * down (it may run on a cluster that pulls its images through this very
 * registry), and picks the IdP up when it returns, with no restart.
 *
 * The only module that calls openid-client. Whatever fails in discovery, the
 * code exchange, userinfo or the end-session URL is thrown as a GateError,
 * the original kept as `cause`: `IDP_UNAVAILABLE` (503) when the IdP could
 * not be asked or did not answer, `OIDC_LOGIN_FAILED` (400) when it answered
 * and the login does not check out, `OIDC_CREDENTIALS` (500) for the gate's
 * own credentials file, `OIDC_CLIENT` (500) when a URL the gate makes itself
 * cannot be made.
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

  /**
   * A new login: fresh state, nonce and PKCE verifier (S256), and the IdP's
   * authorization URL carrying them. Discovers the IdP first, if need be.
   */
  async beginLogin(redirectUri: string): Promise<LoginStart> {
    const configuration = await this.configuration();
    try {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(configuration, {
        redirect_uri: redirectUri,
        scope: this.provider.scopes.join(' '),
        response_type: 'code',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      return { url, state, nonce, verifier };
    } catch (error) {
      // Made here, with nothing asked of the IdP: a fault of the gate's, not the IdP's.
      throw new GateError('OIDC_CLIENT', `${this.provider.name}: no authorization URL (${(error as Error).message})`, { status: 500, cause: error });
    }
  }

  /**
   * The callback: exchanges the code (state, nonce, PKCE and the ID token
   * checked by openid-client), then asks userinfo, whose `sub` must be the
   * ID token's. Both carry {@link IDP_TIMEOUT_SEC}.
   */
  async finishLogin(callbackUrl: URL, login: { readonly state: string; readonly nonce: string; readonly verifier: string }): Promise<LoginResult> {
    const configuration = await this.configuration();
    try {
      const tokens = await client.authorizationCodeGrant(configuration, callbackUrl, {
        pkceCodeVerifier: login.verifier,
        expectedState: login.state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      if (claims === undefined) throw new Error('no ID token');
      const userinfo = await client.fetchUserInfo(configuration, tokens.access_token, claims.sub);
      return { claims, userinfo };
    } catch (error) {
      throw idpFailure(this.provider, error);
    }
  }

  /**
   * The IdP's end-session URL, or undefined when it has none or is not
   * discovered yet. Never waits on the IdP: before the first discovery (a
   * gate restarted since the login) it starts one in the background, for the
   * next logout.
   */
  endSessionUrl(postLogoutRedirectUri: string): URL | undefined {
    const configuration = this.#config;
    if (configuration === null) {
      this.configuration().catch(() => undefined);
      return undefined;
    }
    if (configuration.serverMetadata().end_session_endpoint === undefined) return undefined;
    try {
      return client.buildEndSessionUrl(configuration, { client_id: configuration.clientMetadata().client_id, post_logout_redirect_uri: postLogoutRedirectUri });
    } catch (error) {
      throw new GateError('OIDC_CLIENT', `${this.provider.name}: no end-session URL (${(error as Error).message})`, { status: 500, cause: error });
    }
  }
}

/** What {@link OidcClient.beginLogin} made: the URL to send the browser to, and what the callback must check. */
export interface LoginStart {
  readonly url: URL;
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
}

/** A login the IdP vouched for: the checked ID token's claims, and userinfo. */
export interface LoginResult {
  readonly claims: client.IDToken;
  readonly userinfo: client.UserInfoResponse;
}

/**
 * A failed code exchange or userinfo request as the one error type:
 * `IDP_UNAVAILABLE` for a failure of the IdP rather than of the login — no
 * answer within {@link IDP_TIMEOUT_SEC}, no connection (fetch's `TypeError:
 * fetch failed`), or a 5xx (a proxy in front of a down IdP), so the user can
 * only retry later — else `OIDC_LOGIN_FAILED`. A GateError passes as it is.
 */
export function idpFailure(provider: OpenIdProvider, error: unknown): GateError {
  if (error instanceof GateError) return error;
  const status = error instanceof client.ResponseBodyError ? error.status : error instanceof client.ClientError && error.cause instanceof Response ? error.cause.status : 0;
  const unreachable =
    (error instanceof TypeError && error.message === 'fetch failed') ||
    (error instanceof client.ClientError && (error.code === 'OAUTH_TIMEOUT' || error.code === 'OAUTH_ABORT')) ||
    status >= 500;
  const message = error instanceof Error ? error.message : String(error);
  if (unreachable) return unavailable(provider, message, error);
  return new GateError('OIDC_LOGIN_FAILED', `${provider.name}: the login did not check out (${message})`, { status: 400, cause: error });
}

/**
 * What a failed login says, for the log: openid-client's message (with its
 * cause's, which names the check that failed: state, nonce, iss…) and codes,
 * and the IdP's OAuth error, read from the error {@link idpFailure} wrapped.
 * Fixed strings: no secret is in them, and the values compared (in the
 * cause's own cause) are left out.
 */
export function loginProblem(error: unknown): Record<string, string> {
  const original = error instanceof GateError && error.code === 'OIDC_LOGIN_FAILED' && error.cause !== undefined ? error.cause : error;
  if (!(original instanceof Error)) return { problem: String(original) };
  const { code, error: oauthError, error_description: description } = original as { code?: unknown; error?: unknown; error_description?: unknown };
  const cause = original.cause instanceof Error && original.cause.message !== original.message ? `: ${original.cause.message}` : '';
  return {
    problem: `${original.message}${cause}`,
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof oauthError === 'string' ? { oauthError } : {}),
    ...(typeof description === 'string' ? { oauthErrorDescription: description } : {}),
  };
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
