/**
 * The rules of failed-authentication throttling, as decisions from data to
 * data (no clock: `now` is passed in, in milliseconds). The failures of each
 * key live in identity/auth-throttle.ts; the HTTP side is http/auth-throttling.ts.
 *
 * A failure beyond the first `delayAfter` in the window doubles the wait
 * before its answer (from `failDelayMs`, zot's failDelay, up to
 * `MAX_DELAY_MS`); reaching `maxFailures` locks the key for `lockForMs`,
 * twice as long for each lock that starts within a window of the previous
 * one's end, up to `maxLockForMs`.
 */
export type ThrottleScope = 'address' | 'username';

export interface ScopeLimits {
  /** failures within the window that start a lock; 0 = this scope never locks */
  readonly maxFailures: number;
  readonly lockForMs: number;
  /** a repeated lock doubles, up to this */
  readonly maxLockForMs: number;
}

export interface ThrottleLimits {
  readonly windowMs: number;
  /** failures within the window that wait `failDelayMs` alone; each later one waits twice the one before */
  readonly delayAfter: number;
  /** zot's `auth.failDelay`; 0 = failures are never delayed */
  readonly failDelayMs: number;
  readonly address: ScopeLimits;
  readonly username: ScopeLimits;
}

export interface Lock {
  readonly scope: ThrottleScope;
  /** when it ends, in the clock's milliseconds */
  readonly until: number;
  /** whole seconds until it ends, at least 1: the `Retry-After` value */
  readonly retryAfter: number;
}

/** What is remembered of one key's failures. */
export interface FailureRecord {
  /** failure times within the window, oldest first */
  readonly failures: readonly number[];
  /** when the last lock ended or ends; 0 = never locked */
  readonly lockedUntil: number;
  /** locks in a row, each within a window of the previous one's end */
  readonly strikes: number;
}

export const NO_FAILURES: FailureRecord = { failures: [], lockedUntil: 0, strikes: 0 };

/** The longest wait a failure gets (unless failDelay itself is longer). */
export const MAX_DELAY_MS = 10_000;
// Beyond this many doublings the delay is at its cap whatever failDelay is (1 ms × 2^14 > 10 s).
const DELAY_DOUBLINGS = 16;

/**
 * Refusals that are no guess at a secret, so they are not counted (they still
 * wait failDelay): an expired gate token is every docker client's normal life,
 * an unreachable issuer is not the client's fault, a Bearer token at the token
 * endpoint is a client's mistake. A login callback that carries no login of
 * its own (`login-expired`: no login cookie, one the gate did not seal, one
 * for another provider or with another state) guesses nothing either — any
 * page can make its visitor's browser send one with an `<img>`, so counting
 * it would let any site lock its visitors' addresses out.
 */
const NOT_COUNTED: ReadonlySet<string> = new Set(['expired-token', 'issuer-unavailable', 'bearer-at-token-endpoint', 'login-expired']);

export function countsAsGuess(failure: string): boolean {
  return !NOT_COUNTED.has(failure);
}

/** What a credential's secret is, as far as guessing goes. */
export type SecretKind = 'api-key' | 'signed-token' | 'password';

// zot's API-key prefix (identity/apikey.ts), and a compact JWS (header.payload.signature).
const API_KEY_PREFIX = 'zak_';
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The secret Basic or Bearer credentials carry: a `zak_` key, a signed token (a gate token, a trusted JWT), else a password. */
export function secretKindOf(credentials: { readonly kind: 'basic'; readonly password: string } | { readonly kind: 'bearer' }): SecretKind {
  if (credentials.kind === 'bearer') return 'signed-token';
  if (credentials.password.startsWith(API_KEY_PREFIX)) return 'api-key';
  return COMPACT_JWS.test(credentials.password) ? 'signed-token' : 'password';
}

/**
 * Whether the username lock refuses a credential before it is checked. Only
 * a guessable secret: a `zak_` key is 128 random bits and a token is a
 * signature, both checked cheaply, so refusing a right one unchecked would
 * only let anyone who guesses under its owner's name lock the owner out. Those
 * are checked first; a wrong one still counts and meets the lock afterwards.
 * The address lock is always consulted first, whatever the credential.
 */
export function usernameLockChecksFirst(secret: SecretKind): boolean {
  return secret === 'password';
}

/** `auth.throttle` as the loaded config holds it (config/types.ts). */
export interface ThrottleSettings {
  readonly windowMs: number;
  /** failures in the window that wait failDelay alone; each later one waits twice the one before */
  readonly delayAfter: number;
  /** failures from one client address in the window that lock it; 0 = never */
  readonly maxFailures: number;
  /** failures for one username, from addresses it never authenticated from, that lock it; 0 = never */
  readonly usernameMaxFailures: number;
  /** the first lock; an address's repeated locks double, up to maxLockForMs; a username's do not grow */
  readonly lockForMs: number;
  readonly maxLockForMs: number;
}

/** The limits the config sets now (a SIGHUP may change them; what was counted stays). */
export function throttleLimits(auth: { readonly throttle: ThrottleSettings; readonly failDelayMs: number }): ThrottleLimits {
  const t = auth.throttle;
  return {
    windowMs: t.windowMs,
    delayAfter: t.delayAfter,
    failDelayMs: auth.failDelayMs,
    address: { maxFailures: t.maxFailures, lockForMs: t.lockForMs, maxLockForMs: t.maxLockForMs },
    // A username's locks do not grow: they shut out only its unknown addresses, and only for lockFor.
    username: { maxFailures: t.usernameMaxFailures, lockForMs: t.lockForMs, maxLockForMs: t.lockForMs },
  };
}

/** One more failure of a key in `scope`: what to remember, and the lock it starts or the wait before answering. */
export function recordFailure(
  record: FailureRecord,
  scope: ThrottleScope,
  limits: ThrottleLimits,
  now: number,
): { readonly record: FailureRecord; readonly lock: Lock } | { readonly record: FailureRecord; readonly delayMs: number } {
  const scoped = limits[scope];
  const kept = Math.max(scoped.maxFailures, limits.delayAfter + DELAY_DOUBLINGS);
  const failures = [...record.failures.filter((at) => at > now - limits.windowMs), now].slice(-kept);
  if (scoped.maxFailures > 0 && failures.length >= scoped.maxFailures) {
    const repeated = record.lockedUntil > 0 && now - record.lockedUntil <= limits.windowMs;
    const strikes = repeated ? Math.min(record.strikes + 1, 32) : 1;
    const lockedUntil = now + Math.min(scoped.lockForMs * 2 ** (strikes - 1), Math.max(scoped.maxLockForMs, scoped.lockForMs));
    return { record: { failures: [], lockedUntil, strikes }, lock: lockAt(scope, lockedUntil, now) };
  }
  return { record: { ...record, failures }, delayMs: delayFor(failures.length, limits) };
}

/** The wait before answering the `count`th failure in the window. */
export function delayFor(count: number, limits: Pick<ThrottleLimits, 'delayAfter' | 'failDelayMs'>): number {
  const { failDelayMs, delayAfter } = limits;
  if (failDelayMs <= 0) return 0;
  const doublings = Math.min(Math.max(0, count - delayAfter), DELAY_DOUBLINGS);
  return Math.min(failDelayMs * 2 ** doublings, Math.max(failDelayMs, MAX_DELAY_MS));
}

export function lockAt(scope: ThrottleScope, until: number, now: number): Lock {
  return { scope, until, retryAfter: Math.max(1, Math.ceil((until - now) / 1000)) };
}

/** The lock that ends last (the client must wait for all of them); address first on a tie. */
export function longest(locks: ReadonlyArray<Lock | null>): Lock | null {
  let found: Lock | null = null;
  for (const lock of locks) if (lock !== null && (found === null || lock.until > found.until)) found = lock;
  return found;
}
