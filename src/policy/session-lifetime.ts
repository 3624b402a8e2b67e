/**
 * How long a browser session lasts. Pure: the session's times, the current
 * `auth.session.maxAge` and the clock go in.
 *
 * A session counts while `issued + maxAge` is in the future, with maxAge as
 * the config says now, not as it said at sign-in: lowering it (SIGHUP) ends
 * every older session at once. The expiry sealed into the cookie at sign-in
 * stays a ceiling: raising maxAge lengthens new sessions only, so a logout's
 * revocation, kept until that sealed expiry (session-revocation.ts), always
 * outlives the session it ends.
 */

/** A session's times, epoch seconds, as sealed in its cookie (`iat`, `exp`). */
export interface SessionTimes {
  readonly issuedAt: number;
  readonly sealedUntil: number;
}

/** When the session ends (epoch seconds): `issuedAt + maxAge`, never past the sealed expiry. */
export function sessionExpiry(times: SessionTimes, maxAgeMs: number): number {
  return Math.min(times.sealedUntil, times.issuedAt + Math.floor(maxAgeMs / 1000));
}

/** Whether the session still counts at `nowSec` (it ends at its expiry, as a JWT at its `exp`). */
export function sessionLive(times: SessionTimes, maxAgeMs: number, nowSec: number): boolean {
  return nowSec < sessionExpiry(times, maxAgeMs);
}
