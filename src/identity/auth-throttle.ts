/**
 * Failed-authentication throttling: what is remembered per key, with no I/O
 * and the clock passed in (milliseconds) on every call. The rules (delays,
 * locks, what counts) are policy/throttle.ts; the HTTP side is
 * http/auth-throttling.ts.
 *
 * Failures are counted per key in a sliding window, for two scopes:
 *
 * - `address`: the client's address (an IPv6 address by its /64, which one
 *   host can hold whole). Every counted failure from the address counts.
 * - `username`: the username Basic credentials named, across addresses, but
 *   never from an address that has authenticated as that user before (its
 *   "known" addresses, the few most recent). So an attacker hammering `alice`
 *   from elsewhere cannot lock alice out of the addresses she works from,
 *   while a spread-out guesser is still bounded per username. An address
 *   becomes known for the identity that authenticated, never for a name the
 *   client merely sent (a trusted JWT is accepted with any Basic username).
 *
 * Which locks are consulted before credentials are checked is the caller's
 * choice (policy/throttle.ts `usernameLockChecksFirst`): a locked client
 * learns nothing about credentials that are not checked. A failure while one
 * scope is locked still counts for the others. A success clears nothing: it
 * would let anyone with one valid key reset their address's count between
 * guesses, and a user's own success would restart a distributed guesser's
 * budget for them.
 *
 * Memory is bounded: each scope keeps at most `maxKeys` keys (least recently
 * used go first) and each key at most `maxFailures` (or `delayAfter` + 16)
 * timestamps; known addresses, at most `KNOWN_ADDRESSES` per user.
 */
import { isIPv6 } from 'node:net';
import { LRUCache } from 'lru-cache';
import { lockAt, longest, NO_FAILURES, recordFailure, type FailureRecord, type Lock, type ThrottleLimits, type ThrottleScope } from '../policy/throttle.js';

/** Who is trying: the client's address key (clientKey()), and the username Basic credentials named. */
export interface Attempt {
  readonly address: string;
  readonly username?: string;
}

export type FailureOutcome =
  | { readonly kind: 'delay'; readonly delayMs: number }
  /** `started`: the scopes this failure locked; empty when a lock was already in place */
  | { readonly kind: 'locked'; readonly lock: Lock; readonly started: readonly ThrottleScope[] };

export interface ThrottleOptions {
  /** keys kept per scope; the least recently used are forgotten first */
  readonly maxKeys?: number;
}

/** Known addresses kept per user. */
export const KNOWN_ADDRESSES = 8;
const DEFAULT_MAX_KEYS = 10_000;

export class AuthThrottle {
  readonly #records: Readonly<Record<ThrottleScope, LRUCache<string, FailureRecord>>>;
  /** username → addresses it last authenticated from, most recent first */
  readonly #known: LRUCache<string, readonly string[]>;

  constructor(options: ThrottleOptions = {}) {
    const max = options.maxKeys ?? DEFAULT_MAX_KEYS;
    this.#records = { address: new LRUCache({ max }), username: new LRUCache({ max }) };
    this.#known = new LRUCache({ max });
  }

  /** The lock that refuses this attempt, or null; without a username, only the address's. */
  check(attempt: Attempt, now: number): Lock | null {
    return longest(this.#keys(attempt).map(([scope, key]) => this.#lockOf(scope, key, now)));
  }

  /**
   * After credentials were refused: the wait before answering, or the lock in
   * place. A scope already locked starts nothing new; the others still count,
   * so guesses checked under a username lock still lock their address.
   */
  fail(attempt: Attempt, limits: ThrottleLimits, now: number): FailureOutcome {
    let delayMs = 0;
    const locks: Lock[] = [];
    const started: ThrottleScope[] = [];
    for (const [scope, key] of this.#keys(attempt)) {
      const held = this.#lockOf(scope, key, now);
      if (held !== null) {
        locks.push(held);
        continue;
      }
      const outcome = recordFailure(this.#records[scope].get(key) ?? NO_FAILURES, scope, limits, now);
      this.#records[scope].set(key, outcome.record);
      if ('lock' in outcome) {
        locks.push(outcome.lock);
        started.push(scope);
      } else delayMs = Math.max(delayMs, outcome.delayMs);
    }
    const lock = longest(locks);
    return lock === null ? { kind: 'delay', delayMs } : { kind: 'locked', lock, started };
  }

  /**
   * After credentials were accepted: `address` (a clientKey()) becomes one
   * `user`, the identity that authenticated, is known from. Clears no failure.
   */
  succeed(address: string, user: string): void {
    const known = this.#known.get(user) ?? [];
    this.#known.set(user, [address, ...known.filter((a) => a !== address)].slice(0, KNOWN_ADDRESSES));
  }

  /** What is held, for tests of the memory bound: keys per scope and failure times in all. */
  held(): { readonly address: number; readonly username: number; readonly known: number; readonly failures: number } {
    let failures = 0;
    for (const cache of Object.values(this.#records)) for (const record of cache.values()) failures += record.failures.length;
    return { address: this.#records.address.size, username: this.#records.username.size, known: this.#known.size, failures };
  }

  /** The keys an attempt is counted under: its address, and its username unless it comes from a known address. */
  #keys(attempt: Attempt): Array<readonly [ThrottleScope, string]> {
    const keys: Array<readonly [ThrottleScope, string]> = [['address', attempt.address]];
    const { username } = attempt;
    if (username !== undefined && !(this.#known.get(username)?.includes(attempt.address) ?? false)) keys.push(['username', username]);
    return keys;
  }

  #lockOf(scope: ThrottleScope, key: string, now: number): Lock | null {
    const record = this.#records[scope].peek(key);
    return record !== undefined && record.lockedUntil > now ? lockAt(scope, record.lockedUntil, now) : null;
  }
}

const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * The key an address is counted under: an IPv4 address (also when written
 * IPv4-mapped) as it is, an IPv6 address by its /64 (`2001:db8:0:1::/64`),
 * anything else as given.
 */
export function clientKey(address: string): string {
  const mapped = MAPPED_IPV4.exec(address);
  if (mapped !== null) return mapped[1]!;
  if (!isIPv6(address.split('%')[0]!)) return address;
  const [head = '', tail] = address.split('%')[0]!.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  // an IPv4 tail (`64:ff9b::192.0.2.1`) takes two groups
  const width = [...front, ...back].reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const all = [...front, ...Array<string>(tail === undefined ? 0 : 8 - width).fill('0'), ...back];
  return `${all.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}
