/**
 * The API-key rules, for every way a key is made (the account form, zot's
 * `POST /zot/auth/apikey`, `zot-gate apikey create`) and every place a key's
 * end matters (the store's lookups and `isActive`, identity resolution, zot's
 * key shapes, the listings, the metrics). Pure: the clock comes in as `now`,
 * and each caller frames the problems in its own words.
 *
 * - label: 1 to 100 characters once trimmed, none a terminal or page acts on;
 * - scopes: at most 20, each a usable repository glob of at most 128
 *   characters; a key manages only keys within its own scopes (`scopesCover`);
 * - expiry: a new key's within `auth.apikey.maxLifetime`; a stored key ends
 *   at its own `expiresAt` or `createdAt + maxLifetime`, whichever is sooner
 *   (`keyExpiry`), so lowering the bound (SIGHUP) ends older keys too;
 * - a key minted with a key: within that key's scopes and expiry (`decideKeyGrant`).
 */
import { formatDuration, parseDuration } from './duration.js';
import { coverage, coverBudget, type CoverBudget } from './glob-cover.js';
import { globCoversEveryName, globProblem } from './glob.js';
import { parseRfc3339 } from './rfc3339.js';

const MAX_LABEL_LENGTH = 100;

/**
 * C0 and C1 controls and DEL (Unicode's Cc), the line and paragraph
 * separators, and the bidi embeddings, overrides and isolates. Labels are
 * printed by `apikey list` to an operator's terminal, where ESC starts a
 * control sequence, C1's CSI (U+009B) does the same in some terminals, a
 * newline or tab draws a fake row, and bidi overrides reorder what a row
 * appears to say.
 */
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

export type LabelCheck =
  | { readonly ok: true; readonly label: string }
  | { readonly ok: false; readonly reason: 'label-invalid'; readonly problem: string };

/** The label to store (trimmed), or the problem in words each caller frames. */
export function checkKeyLabel(text: string): LabelCheck {
  const label = text.trim();
  if (CONTROL_CHARACTERS.test(label)) return { ok: false, reason: 'label-invalid', problem: 'control characters are not allowed' };
  if (label.length === 0 || label.length > MAX_LABEL_LENGTH) {
    return { ok: false, reason: 'label-invalid', problem: `give the key a name of 1 to ${MAX_LABEL_LENGTH} characters` };
  }
  return { ok: true, label };
}

/**
 * The bounds on a new key's scopes, wherever it is made. Every scope a key
 * holds is compared (glob inclusion, whose cost grows with both patterns)
 * with every scope of each key it mints, lists or revokes; zot bounds
 * neither, but 20 patterns of 128 characters are far beyond what people write.
 */
export const MAX_KEY_SCOPES = 20;
export const MAX_SCOPE_LENGTH = 128;

export type ScopesCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'scope-count'; readonly problem: string }
  | { readonly ok: false; readonly reason: 'scope-invalid'; readonly scope: string; readonly problem: string };

/** A new key's scopes: at most MAX_KEY_SCOPES, each a usable glob of at most MAX_SCOPE_LENGTH characters; the first problem found. */
export function checkKeyScopes(scopes: readonly string[]): ScopesCheck {
  if (scopes.length > MAX_KEY_SCOPES) return { ok: false, reason: 'scope-count', problem: `at most ${MAX_KEY_SCOPES} patterns, not ${scopes.length}` };
  for (const scope of scopes) {
    // before the glob is read: a long one costs to compile, and more to compare
    const problem = scope.length > MAX_SCOPE_LENGTH ? `longer than ${MAX_SCOPE_LENGTH} characters` : globProblem(scope);
    if (problem !== null) return { ok: false, reason: 'scope-invalid', scope, problem };
  }
  return { ok: true };
}

/**
 * Whether the scopes `held` cover the scopes `other`: each of `other`'s globs
 * is covered by one of `held`'s. Empty means unscoped (every repository): an
 * unscoped `held` covers anything, an unscoped `other` only a `held` glob
 * that matches every name. Decides which keys a key may see and revoke; the
 * comparisons spend from `budget`, which a listing shares across its keys
 * (a comparison it cannot afford answers "no").
 */
export function scopesCover(held: readonly string[], other: readonly string[], budget: CoverBudget = coverBudget()): boolean {
  if (held.length === 0) return true;
  if (other.length === 0) return held.some(globCoversEveryName);
  return other.every((inner) => held.some((outer) => coverage(outer, inner, budget) === 'covers'));
}

export type LifetimeCheck =
  | { readonly ok: true; readonly expiresAt: Date | null }
  | { readonly ok: false; readonly reason: 'expiration-malformed' | 'expiration-beyond-max-lifetime'; readonly problem: string };

/**
 * A new key's expiry from a lifetime asked as a duration (`30d`), as the
 * account form and `apikey create --expires` take it. Null asks for the
 * longest allowed: `maxLifetimeMs` from now, or none when nothing bounds it.
 */
export function lifetimeExpiry(asked: string | null, maxLifetimeMs: number | null, now: Date): LifetimeCheck {
  if (asked === null) return { ok: true, expiresAt: maxLifetimeMs === null ? null : new Date(now.getTime() + maxLifetimeMs) };
  const ms = parseDuration(asked);
  if (ms === null || ms === 0) return { ok: false, reason: 'expiration-malformed', problem: `${JSON.stringify(asked)} is not a duration such as 30d or 12h` };
  if (maxLifetimeMs !== null && ms > maxLifetimeMs) {
    return { ok: false, reason: 'expiration-beyond-max-lifetime', problem: `${asked} is longer than auth.apikey.maxLifetime (${formatDuration(maxLifetimeMs)})` };
  }
  return { ok: true, expiresAt: new Date(now.getTime() + ms) };
}

/** What a key's end is computed from: its record's two dates. */
export interface KeyDates {
  readonly createdAt: string;
  readonly expiresAt: string | null;
}

/** The moment a stored key stops working: the sooner of `expiresAt` and `createdAt + maxLifetime`; null when nothing bounds it. */
export function keyExpiry(record: KeyDates, maxLifetimeMs: number | null): Date | null {
  const own = record.expiresAt === null ? null : Date.parse(record.expiresAt);
  const bound = maxLifetimeMs === null ? null : Date.parse(record.createdAt) + maxLifetimeMs;
  const end = own === null ? bound : bound === null ? own : Math.min(own, bound);
  return end === null ? null : new Date(end);
}

/** True from the moment of `keyExpiry` on. */
export function keyExpired(record: KeyDates, maxLifetimeMs: number | null, now: Date): boolean {
  const end = keyExpiry(record, maxLifetimeMs);
  return end !== null && end.getTime() <= now.getTime();
}

/** Who asks for a key through zot's API: a browser session (bounded by maxLifetime only) or an API key with its own limits. */
export type Granter =
  | { readonly kind: 'session' }
  | {
      readonly kind: 'apikey';
      /** the caller key's scopes; empty = unscoped */
      readonly scopes: readonly string[];
      /** when the caller key stops working (`keyExpiry`), or null */
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
  | 'scope-count'
  | 'scope-invalid'
  | 'expiration-malformed'
  | 'expiration-past'
  | 'expiration-beyond-max-lifetime'
  | 'scope-not-covered'
  | 'expiration-beyond-caller-key';

export type KeyGrant =
  | { readonly allow: true; readonly expiresAt: Date | null }
  | { readonly allow: false; readonly reason: KeyGrantReason; readonly message: string };

/**
 * May this caller create a key with these scopes and this expiry, through
 * zot's API? Rules, checked in this order so the same request always gets the
 * same answer:
 * 1. at most 20 scopes, each a usable glob of at most 128 characters (`checkKeyScopes`);
 * 2. `expirationDate` is empty (none asked) or an RFC 3339 date-time, as zot's
 *    `time.Parse(time.RFC3339, …)` reads it, and lies in the future;
 * 3. it is no later than `now + auth.apikey.maxLifetime`;
 * 4. an API-key caller asks only for scopes its own key covers (glob
 *    inclusion, `globCovers`, within one budget of steps for the request:
 *    what it cannot afford to show is refused as not covered), and a scoped
 *    caller never for an unscoped key;
 * 5. an API-key caller asks for no later expiry than its own key's.
 * Without an `expirationDate` the new key gets the latest expiry allowed
 * (none when nothing bounds it), as `zot-gate apikey create` does.
 */
export function decideKeyGrant(granter: Granter, request: KeyRequest, context: GrantContext): KeyGrant {
  const scopes = checkKeyScopes(request.scopes);
  if (!scopes.ok) {
    return scopes.reason === 'scope-count'
      ? refuse('scope-count', `scopes: ${scopes.problem}`)
      : refuse('scope-invalid', `scope ${JSON.stringify(scopes.scope)} is not a valid repository glob: ${scopes.problem}`);
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
    if (uncovered !== null && uncovered.tooCostly) {
      return refuse('scope-not-covered', `scope ${JSON.stringify(uncovered.scope)} could not be shown to lie within the scopes of the API key making this request (${own}): the patterns are too costly to compare; ask for a simpler scope`);
    }
    const what = uncovered === null ? 'a key without scopes (every repository)' : `scope ${JSON.stringify(uncovered.scope)}`;
    return refuse('scope-not-covered', `${what} is outside the scopes of the API key making this request (${own}); a key can only create keys within its own scopes`);
  }
  if (granter.expiresAt !== null && (expiresAt === null || expiresAt.getTime() > granter.expiresAt.getTime())) {
    return refuse('expiration-beyond-caller-key', `expirationDate ${asked === '' ? '(none)' : asked} is later than the API key making this request, which expires at ${granter.expiresAt.toISOString()}`);
  }
  return { allow: true, expiresAt };
}

/**
 * The first requested scope no held scope covers, and whether some
 * comparison was too costly to finish (one budget for the request); null for
 * an unscoped request not covered; undefined when all are covered.
 */
function uncoveredScope(held: readonly string[], requested: readonly string[]): { readonly scope: string; readonly tooCostly: boolean } | null | undefined {
  if (held.length === 0) return undefined;
  if (requested.length === 0) return held.some(globCoversEveryName) ? undefined : null;
  const budget = coverBudget();
  for (const scope of requested) {
    let tooCostly = false;
    const covered = held.some((outer) => {
      const found = coverage(outer, scope, budget);
      tooCostly ||= found === 'too-costly';
      return found === 'covers';
    });
    if (!covered) return { scope, tooCostly };
  }
  return undefined;
}

function earliest(a: Date | null, b: Date | null): Date | null {
  if (a === null) return b;
  if (b === null) return a;
  return a.getTime() <= b.getTime() ? a : b;
}

function refuse(reason: KeyGrantReason, message: string): KeyGrant {
  return { allow: false, reason, message };
}
