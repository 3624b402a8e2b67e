/**
 * Keyless CI identities: JWTs from the issuers in `auth.trustedIssuers`
 * (README, "How clients prove who they are"), verified with jose against each issuer's JWKS.
 * Keys are fetched on first use, so the gate starts while an issuer is down;
 * a failing issuer is retried with backoff and never delays the others.
 */
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, customFetch, decodeJwt, errors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import type { TrustedIssuer } from '../config/types.js';
import { tokenAge, type TokenAgeRefusal } from '../policy/token-age.js';
import { loginIdentity } from './claims.js';
import type { Identity } from './types.js';

/**
 * Asymmetric algorithms only: HS* would let anyone holding the issuer's
 * public key (it is published) forge tokens, and `none` is no signature.
 */
export const TRUSTED_ALGORITHMS: readonly string[] = Object.freeze([
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA',
]);

/** Why a JWT was refused: kebab-case, reused in logs, metrics and audit events. */
export type TrustedIssuerFailure =
  | 'untrusted-issuer'
  | 'invalid-token'
  | 'expired-token'
  | 'missing-scope'
  | 'missing-claim'
  /** the username is the `email` claim, and the token does not say it is verified (identity/claims.ts) */
  | 'email-unverified'
  /** the username breaks the username rule (policy/username.ts) */
  | 'username-invalid'
  | TokenAgeRefusal
  | 'issuer-unavailable';

/** The outcome of {@link TrustedIssuers.verify}: an identity, or a named reason. */
export type JwtVerification =
  | { readonly ok: true; readonly identity: Identity; /** the token's `exp`, in ms since the epoch */ readonly expiresAt: number }
  | { readonly ok: false; readonly reason: TrustedIssuerFailure; /** why an issuer is unavailable, for the log only */ readonly detail?: string };

export interface TrustedIssuersOptions {
  /** Skew allowed on `exp`, `nbf` and `iat` (policy/token-age.ts), 0–300 s. Default 60. */
  readonly clockToleranceSec?: number;
  /** Bound on the issuer's metadata discovery (both well-known paths together), and on each JWKS request (jose's `timeoutDuration`). Default 5000. */
  readonly fetchTimeoutMs?: number;
  readonly now?: () => Date;
}

const DEFAULT_CLOCK_TOLERANCE_SEC = 60;
const MAX_CLOCK_TOLERANCE_SEC = 300;
const DEFAULT_FETCH_TIMEOUT_MS = 5_000;
// A push is hundreds of requests carrying the same token: verify it once.
const CACHE_MAX_ENTRIES = 1_000;
const CACHE_MAX_TTL_MS = 60_000;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

type Verified = { readonly identity: Identity; readonly expiresAt: number };

/** The configured trusted issuers, each with its own lazily fetched keys. */
export class TrustedIssuers {
  readonly #issuers: ReadonlyMap<string, IssuerKeys>;
  readonly #clockTolerance: number;
  readonly #now: () => Date;
  readonly #cache = new LRUCache<string, Verified>({ max: CACHE_MAX_ENTRIES });

  /** Makes no request: keys are fetched on first use. Throws a RangeError for an option out of bounds or an issuer listed twice. */
  constructor(issuers: readonly TrustedIssuer[], options: TrustedIssuersOptions = {}) {
    this.#clockTolerance = bounded('clockToleranceSec', options.clockToleranceSec ?? DEFAULT_CLOCK_TOLERANCE_SEC, 0, MAX_CLOCK_TOLERANCE_SEC);
    const fetchTimeoutMs = bounded('fetchTimeoutMs', options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS, 1, 60_000);
    this.#now = options.now ?? (() => new Date());
    const byIssuer = new Map<string, IssuerKeys>();
    for (const issuer of issuers) {
      // Two entries for one `iss` would make the choice between them depend on order.
      if (byIssuer.has(issuer.issuer)) throw new RangeError(`trustedIssuers: ${issuer.issuer} is listed twice`);
      byIssuer.set(issuer.issuer, new IssuerKeys(issuer, fetchTimeoutMs, this.#now));
    }
    this.#issuers = byIssuer;
  }

  /** Three base64url segments (a JWS compact serialization); says nothing about validity. */
  looksLikeJwt(token: string): boolean {
    return JWT_SHAPE.test(token);
  }

  /** Verifies a JWT against the issuer its `iss` names; never throws. */
  async verify(token: string): Promise<JwtVerification> {
    const now = this.#now();
    const cacheKey = createHash('sha256').update(token).digest('hex');
    const hit = this.#cache.get(cacheKey);
    if (hit !== undefined && hit.expiresAt > now.getTime()) return { ok: true, ...hit };

    const issuer = this.#issuerOf(token);
    if (typeof issuer === 'string') return { ok: false, reason: issuer };
    const checked = await issuer.verify(token, now, this.#clockTolerance);
    if (!checked.ok) return checked;
    const ttl = Math.min(CACHE_MAX_TTL_MS, checked.expiresAt - now.getTime());
    // A token accepted within the clock tolerance after its exp is not cached.
    if (ttl > 0) this.#cache.set(cacheKey, { identity: checked.identity, expiresAt: checked.expiresAt }, { ttl });
    return checked;
  }

  /** The issuer named by the unverified `iss`; jwtVerify checks it again. */
  #issuerOf(token: string): IssuerKeys | 'invalid-token' | 'untrusted-issuer' {
    let payload: JWTPayload;
    try {
      payload = decodeJwt(token);
    } catch {
      return 'invalid-token';
    }
    const issuer = typeof payload.iss === 'string' ? this.#issuers.get(payload.iss) : undefined;
    return issuer ?? 'untrusted-issuer';
  }
}

/** Thrown by a key resolver when the issuer's keys cannot be had right now. */
class KeysUnavailable extends Error {
  override readonly name = 'KeysUnavailable';
}

const MIN_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * One issuer: its JWKS (from `jwksUri`, or discovered from the issuer's
 * metadata) and the backoff that keeps a down issuer from being asked on
 * every request. The backoff gates network requests only: keys jose already
 * holds keep verifying while the issuer is down.
 */
class IssuerKeys {
  readonly #config: TrustedIssuer;
  readonly #fetchTimeoutMs: number;
  readonly #now: () => Date;
  #jwks: JWTVerifyGetKey | null;
  #discovering: Promise<JWTVerifyGetKey> | null = null;
  #failures = 0;
  #retryAt = 0;
  #detail = '';

  constructor(config: TrustedIssuer, fetchTimeoutMs: number, now: () => Date) {
    this.#config = config;
    this.#fetchTimeoutMs = fetchTimeoutMs;
    this.#now = now;
    this.#jwks = config.jwksUri === null ? null : this.#remoteJwks(new URL(config.jwksUri));
  }

  async verify(token: string, currentDate: Date, clockTolerance: number): Promise<JwtVerification> {
    const { issuer, audience, requiredScope, maxTokenAgeMs } = this.#config;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#getKey, {
        algorithms: [...TRUSTED_ALGORITHMS],
        issuer,
        audience,
        clockTolerance,
        currentDate,
        // RFC 7519 makes exp optional; a bearer credential that never expires is not accepted here.
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      if (error instanceof KeysUnavailable) return { ok: false, reason: 'issuer-unavailable', detail: error.message };
      return { ok: false, reason: error instanceof errors.JWTExpired ? 'expired-token' : 'invalid-token' };
    }
    // jose checks iat's type, never that it is believable: a token of any lifetime would pass on its exp alone.
    const age = tokenAge(payload.iat, Math.floor(currentDate.getTime() / 1000), { maxAgeSec: Math.floor(maxTokenAgeMs / 1000), toleranceSec: clockTolerance });
    if (!age.ok) return { ok: false, reason: age.reason };
    if (requiredScope !== null && !scopesOf(payload).includes(requiredScope)) return { ok: false, reason: 'missing-scope' };
    const who = loginIdentity(payload, null, this.#config);
    if (!who.ok) return { ok: false, reason: who.reason === 'username-claim-missing' ? 'missing-claim' : who.reason };
    const identity: Identity = Object.freeze({ kind: 'user', name: who.username, groups: Object.freeze(who.groups), method: 'jwt' });
    // Whichever ends it first, exp or the age limit: the verification cache and gate tokens minted from it end then.
    return { ok: true, identity, expiresAt: Math.min(payload.exp as number, age.endsAt) * 1000 };
  }

  /** jwtVerify calls this only after the algorithm passed the allow-list. */
  readonly #getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      const jwks = this.#jwks ?? (await this.#discoverOnce());
      return await jwks(header, token);
    } catch (error) {
      // An unknown kid (jose refetches the set for it, at most every 30 s) is the token's fault, not the issuer's.
      if (isTokensFault(error)) throw error;
      if (error instanceof KeysUnavailable) throw error;
      this.#fail(messageOf(error));
      throw new KeysUnavailable(`${this.#config.issuer}: ${this.#detail}`, { cause: error });
    }
  };

  #remoteJwks(url: URL): JWTVerifyGetKey {
    // jose's defaults stand: keys cached 10 min, an unknown kid refetches at most every 30 s.
    return createRemoteJWKSet(url, { timeoutDuration: this.#fetchTimeoutMs, [customFetch]: this.#fetchJwks });
  }

  /** jose's own message for a non-200 leaves out the status; the log wants it. */
  readonly #fetchJwks = async (url: string, init: RequestInit): Promise<Response> => {
    const response = await this.#fetch(url, init);
    if (response.status === 200) return response;
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status} from ${url}`);
  };

  #discoverOnce(): Promise<JWTVerifyGetKey> {
    this.#discovering ??= discoverJwksUri(this.#config.issuer, this.#fetch, this.#fetchTimeoutMs)
      .then((url) => (this.#jwks = this.#remoteJwks(url)))
      .finally(() => {
        this.#discovering = null;
      });
    return this.#discovering;
  }

  /** Every request to the issuer goes through here: refused at once while backing off. */
  readonly #fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const wait = this.#retryAt - this.#now().getTime();
    if (wait > 0) throw new KeysUnavailable(`${this.#config.issuer}: ${this.#detail} (next attempt in ${Math.ceil(wait / 1000)} s)`);
    const response = await fetch(url, init);
    if (response.status === 200) this.#failures = 0;
    return response;
  };

  /** Concurrent requests fail together; count them as one failure. */
  #fail(detail: string): void {
    const now = this.#now().getTime();
    this.#detail = detail;
    if (now < this.#retryAt) return;
    this.#failures += 1;
    this.#retryAt = now + Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** (this.#failures - 1));
  }
}

function isTokensFault(error: unknown): boolean {
  return error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JOSENotSupported;
}

type Fetch = (url: string, init: RequestInit) => Promise<Response>;

/**
 * The `jwks_uri` from the issuer's metadata: OpenID Connect Discovery 1.0 §4
 * first, then RFC 8414 §3 (whose well-known segment goes before the path).
 */
async function discoverJwksUri(issuer: string, fetchFn: Fetch, timeoutMs: number): Promise<URL> {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname;
  const candidates = [
    `${url.origin}${path}/.well-known/openid-configuration`,
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
  ];
  const statuses: string[] = [];
  // One deadline for the whole discovery, bodies included: a slow first answer leaves the second less time.
  const signal = AbortSignal.timeout(timeoutMs);
  for (const candidate of candidates) {
    const init = { redirect: 'manual', signal, headers: { accept: 'application/json' } } as const;
    const response = await fetchFn(candidate, init);
    if (response.status !== 200) {
      await response.body?.cancel();
      statuses.push(`HTTP ${response.status} from ${candidate}`);
      continue;
    }
    return jwksUriOf((await response.json()) as unknown, issuer);
  }
  throw new Error(`no issuer metadata: ${statuses.join(', ')}`);
}

function jwksUriOf(metadata: unknown, issuer: string): URL {
  const { issuer: claimed, jwks_uri: jwksUri } = (metadata ?? {}) as Record<string, unknown>;
  // OpenID Connect Discovery §4.3, RFC 8414 §3.3: the metadata must name the issuer it was fetched for.
  if (claimed !== issuer) throw new Error(`issuer metadata names ${JSON.stringify(claimed)}, not ${issuer}`);
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri)) throw new Error('issuer metadata has no jwks_uri');
  const url = new URL(jwksUri);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new Error(`jwks_uri ${jwksUri} must be https (http is accepted only for a loopback host)`);
  }
  return url;
}

/** RFC 8693 §4.2 `scope` (space-separated); `scp` as some issuers send it (an array, or a string). */
function scopesOf(payload: JWTPayload): string[] {
  const scopes: string[] = [];
  for (const claim of [payload['scope'], payload['scp']]) {
    if (typeof claim === 'string') scopes.push(...claim.split(' ').filter((s) => s !== ''));
    else if (Array.isArray(claim)) scopes.push(...claim.filter((s): s is string => typeof s === 'string'));
  }
  return scopes;
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // undici's "fetch failed" hides the reason (ECONNREFUSED, ENOTFOUND, …) in its cause.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

function bounded(name: string, value: number, min: number, max: number): number {
  if (!Number.isFinite(value) || value < min || value > max) throw new RangeError(`${name} must be between ${min} and ${max}, not ${value}`);
  return Math.floor(value);
}
