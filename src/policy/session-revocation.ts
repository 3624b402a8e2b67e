/**
 * Which browser sessions logout has ended, and for how long that must be
 * remembered. Pure: the revocations, the session and the clock go in.
 *
 * Every session carries a random id in its sealed cookie. Logout records the
 * id with the session's own absolute expiry; past that expiry the cookie is
 * refused by its seal anyway, so the revocation is pruned. The list is thus
 * bounded by the sessions issued within `auth.session.maxAge`, each of which
 * took a real sign-in at the IdP; `MAX_REVOKED_SESSIONS` caps it beyond
 * that, and a full list refuses the logout rather than forget a revocation.
 */

/** One ended session: its id and its absolute expiry (epoch seconds, the cookie's `exp`). */
export interface Revocation {
  readonly id: string;
  readonly expiresAt: number;
}

/** What a session id looks like: base64url, 16 random bytes as issued (22 characters), some slack either way. */
export const SESSION_ID = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * How many unexpired revocations are kept at most: 10,000 logouts of distinct
 * sessions within one session lifetime (2 h by default, so more than one a
 * second, each after a sign-in at the IdP). About 600 KB of file.
 */
export const MAX_REVOKED_SESSIONS = 10_000;

/** Why a session read from a good seal is no session; kebab-case, as in logs. */
export type SessionRefusal = 'session-without-id' | 'session-revoked';

/**
 * Whether a sealed session still stands: one without an id was sealed before
 * sessions could be revoked, so it cannot be ended by logout and is refused
 * (its user signs in again once); one whose id is revoked has been logged out.
 */
export function sessionStanding(id: unknown, revoked: ReadonlySet<string>): { readonly ok: true; readonly id: string } | { readonly ok: false; readonly reason: SessionRefusal } {
  if (typeof id !== 'string' || !SESSION_ID.test(id)) return { ok: false, reason: 'session-without-id' };
  return revoked.has(id) ? { ok: false, reason: 'session-revoked' } : { ok: true, id };
}

/** The revocations still needed at `nowSeconds`: those whose session has not expired yet. */
export function inForce(revocations: readonly Revocation[], nowSeconds: number): Revocation[] {
  return revocations.filter((revocation) => revocation.expiresAt > nowSeconds);
}

export type RevokeOutcome =
  | {
      readonly ok: true;
      /** the pruned list with the new revocation in it */
      readonly revocations: readonly Revocation[];
      /** false when the list is exactly as it was: nothing to write */
      readonly changed: boolean;
    }
  | { readonly ok: false; readonly reason: 'revocation-store-full' };

/**
 * Adds a revocation to the list, pruning what has expired. A session already
 * revoked, or already expired, adds nothing. A full list of revocations in
 * force refuses: dropping one would bring a logged-out session back.
 */
export function addRevocation(revocations: readonly Revocation[], revocation: Revocation, nowSeconds: number, max = MAX_REVOKED_SESSIONS): RevokeOutcome {
  const kept = inForce(revocations, nowSeconds);
  const pruned = kept.length !== revocations.length;
  if (revocation.expiresAt <= nowSeconds || kept.some((r) => r.id === revocation.id)) return { ok: true, revocations: kept, changed: pruned };
  if (kept.length >= max) return { ok: false, reason: 'revocation-store-full' };
  return { ok: true, revocations: [...kept, { id: revocation.id, expiresAt: revocation.expiresAt }], changed: true };
}
