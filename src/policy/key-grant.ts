/**
 * May this caller create an API key with these scopes and this expiry?
 * Pure: the request as zot's `APIKeyPayload` carries it, the caller's limits
 * and the clock go in; a grant (with the expiry to store) or a named refusal
 * comes out. `sso/apikey-routes.ts` maps refusals to responses.
 *
 * Rules, checked in this order so the same request always gets the same answer:
 * 1. every scope is a usable glob (`globProblem`);
 * 2. `expirationDate` is empty (none asked) or an RFC 3339 date-time, as zot's
 *    `time.Parse(time.RFC3339, …)` reads it, and lies in the future;
 * 3. it is no later than `now + auth.apikey.maxLifetime`;
 * 4. an API-key caller asks only for scopes its own key covers (glob
 *    inclusion, `globCovers`), and a scoped caller never for an unscoped key;
 * 5. an API-key caller asks for no later expiry than its own key's.
 * Without an `expirationDate` the new key gets the latest expiry allowed
 * (none when nothing bounds it), as `zot-gate apikey create` does.
 */
import { formatDuration } from '../config/duration.js';
import { globCovers } from './glob-cover.js';
import { globCoversEveryName, globProblem } from './glob.js';

/** Who asks: a browser session (bounded by maxLifetime only) or an API key with its own limits. */
export type Granter =
  | { readonly kind: 'session' }
  | {
      readonly kind: 'apikey';
      /** the caller key's scopes; empty = unscoped */
      readonly scopes: readonly string[];
      /** when the caller key stops working (`keyExpiry` in key-lifetime.ts), or null */
      readonly expiresAt: Date | null;
    };

/** The parts of zot's `APIKeyPayload` that grant power. */
export interface KeyRequest {
  readonly scopes: readonly string[];
  /** RFC 3339, or `""` for none */
  readonly expirationDate: string;
}

export interface GrantContext {
  readonly now: Date;
  /** `auth.apikey.maxLifetime`, or null for no bound */
  readonly maxLifetimeMs: number | null;
}

/** Why a key was refused; kebab-case, reused in logs and `detail.reason`. */
export type KeyGrantReason =
  | 'scope-invalid'
  | 'expiration-malformed'
  | 'expiration-past'
  | 'expiration-beyond-max-lifetime'
  | 'scope-not-covered'
  | 'expiration-beyond-caller-key';

export type KeyGrant =
  | { readonly allow: true; readonly expiresAt: Date | null }
  | { readonly allow: false; readonly reason: KeyGrantReason; readonly message: string };

/** Decides a key request; see the module comment for the rules and their order. */
export function decideKeyGrant(granter: Granter, request: KeyRequest, context: GrantContext): KeyGrant {
  for (const scope of request.scopes) {
    const problem = globProblem(scope);
    if (problem !== null) return refuse('scope-invalid', `scope ${JSON.stringify(scope)} is not a valid repository glob: ${problem}`);
  }
  const { now, maxLifetimeMs } = context;
  const latest = earliest(maxLifetimeMs === null ? null : new Date(now.getTime() + maxLifetimeMs), granter.kind === 'apikey' ? granter.expiresAt : null);
  const asked = request.expirationDate;
  let expiresAt: Date | null = latest;
  if (asked !== '') {
    const parsed = parseRfc3339(asked);
    if (parsed === null) return refuse('expiration-malformed', `expirationDate ${JSON.stringify(asked)} is not an RFC 3339 date-time such as 2030-01-02T15:04:05Z`);
    if (parsed.getTime() <= now.getTime()) return refuse('expiration-past', `expirationDate ${asked} is not in the future`);
    if (maxLifetimeMs !== null && parsed.getTime() > now.getTime() + maxLifetimeMs) {
      return refuse('expiration-beyond-max-lifetime', `expirationDate ${asked} is further away than auth.apikey.maxLifetime (${formatDuration(maxLifetimeMs)}) allows`);
    }
    expiresAt = parsed;
  }
  if (granter.kind === 'session') return { allow: true, expiresAt };

  const uncovered = uncoveredScope(granter.scopes, request.scopes);
  if (uncovered !== undefined) {
    const own = granter.scopes.map((scope) => JSON.stringify(scope)).join(', ');
    const what = uncovered === null ? 'a key without scopes (every repository)' : `scope ${JSON.stringify(uncovered)}`;
    return refuse('scope-not-covered', `${what} is outside the scopes of the API key making this request (${own}); a key can only create keys within its own scopes`);
  }
  if (granter.expiresAt !== null && (expiresAt === null || expiresAt.getTime() > granter.expiresAt.getTime())) {
    return refuse('expiration-beyond-caller-key', `expirationDate ${asked === '' ? '(none)' : asked} is later than the API key making this request, which expires at ${granter.expiresAt.toISOString()}`);
  }
  return { allow: true, expiresAt };
}

/** The first requested scope no held scope covers; null for an unscoped request not covered; undefined when all are. */
function uncoveredScope(held: readonly string[], requested: readonly string[]): string | null | undefined {
  if (held.length === 0) return undefined;
  if (requested.length === 0) return held.some(globCoversEveryName) ? undefined : null;
  return requested.find((scope) => !held.some((h) => globCovers(h, scope)));
}

// Go's time.RFC3339 layout as time.Parse reads it: a fraction after the
// seconds is accepted (`.` or `,`, any number of digits), `T` and `Z` are
// upper case, the offset is required and Go ≥1.20 bounds it to ±23:59.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * An RFC 3339 date-time as zot parses `expirationDate`, or null. Out-of-range
 * fields (month 13, February 30, hour 24, second 60) are refused, as Go does.
 * The fraction is kept to the millisecond, truncated.
 */
export function parseRfc3339(text: string): Date | null {
  const match = RFC3339.exec(text);
  if (match === null) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const [fraction = '', sign, offsetHours = '0', offsetMinutes = '0'] = match.slice(7);
  const oh = Number(offsetHours);
  const om = Number(offsetMinutes);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59 || oh > 23 || om > 59) return null;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0–99 as 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Number(fraction.padEnd(3, '0').slice(0, 3)));
  const offsetMs = (oh * 60 + om) * 60_000 * (sign === '-' ? -1 : 1);
  return new Date(date.getTime() - offsetMs);
}

function daysIn(year: number, month: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0);
  return date.getUTCDate();
}

function earliest(a: Date | null, b: Date | null): Date | null {
  if (a === null) return b;
  if (b === null) return a;
  return a.getTime() <= b.getTime() ? a : b;
}

function refuse(reason: KeyGrantReason, message: string): KeyGrant {
  return { allow: false, reason, message };
}
