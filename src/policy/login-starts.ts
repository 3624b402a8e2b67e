/**
 * How many sign-ins one client address may have under way at once. Pure: the
 * address's outstanding logins and the clock go in; sso/login-states.ts
 * keeps them.
 *
 * `GET /zot/auth/login` needs no authentication, and every start holds a
 * place in the gate's bounded memory of outstanding logins until its callback
 * spends it or it lapses. Unlimited, one client could push everyone else's
 * logins out of that memory (their callbacks then fail, "start again"). With
 * a few per address, that takes thousands of addresses; a person needs one or
 * two at a time, a shared NAT a few more (a finished login frees its place at
 * once).
 */

/** Outstanding logins one address may hold. */
export const MAX_LOGINS_PER_ADDRESS = 20;

export type LoginStartDecision =
  | { readonly allow: true }
  /** `retryAfter`: whole seconds until the address's oldest login lapses, at least 1 */
  | { readonly allow: false; readonly reason: 'too-many-logins'; readonly retryAfter: number };

/**
 * Whether an address may start one more login, given when each of its
 * outstanding logins lapses (`until`, in the clock's milliseconds); lapsed
 * ones do not count.
 */
export function admitLoginStart(outstanding: readonly number[], now: number, max: number = MAX_LOGINS_PER_ADDRESS): LoginStartDecision {
  const live = outstanding.filter((until) => until > now);
  if (live.length < max) return { allow: true };
  return { allow: false, reason: 'too-many-logins', retryAfter: Math.max(1, Math.ceil((Math.min(...live) - now) / 1000)) };
}
