/**
 * The states of the logins this gate started and no callback has spent yet:
 * what makes a login's `state` single-use. The sealed login cookie proves
 * the gate made a state; only this memory proves nobody used it before, so
 * a replayed callback is refused before any request to the IdP.
 *
 * Bounded: at most `max` states, each good for the login cookie's lifetime
 * (a lapsed one is refused, and is pushed out first when room is needed). A
 * flood of anonymous logins pushes the oldest out, and a login whose state
 * was pushed out fails with "start again" — closed, never open. So that a
 * flood takes many addresses, each address holds at most a few places
 * (policy/login-starts.ts): a place is claimed before a login starts and
 * freed when its state is spent, pushed out or lapses. Held in this process:
 * a login started on one gate must come back to the same gate (or, after a
 * restart, start again); sharing them between gates is left to a shared
 * state store.
 */

import { LRUCache } from 'lru-cache';
import { admitLoginStart, MAX_LOGINS_PER_ADDRESS } from '../policy/login-starts.js';

/** Enough for every login of a busy site; about 40 MB when full, from as many addresses (measured: 12 MB of it the states). */
export const MAX_OUTSTANDING_LOGINS = 100_000;

/** One of an address's outstanding logins: from its start until its state is spent, pushed out, or lapses at `until`. */
export interface LoginPlace {
  readonly address: string;
  readonly until: number;
}

export type LoginClaim = { readonly allow: true; readonly place: LoginPlace } | { readonly allow: false; readonly reason: 'too-many-logins'; readonly retryAfter: number };

export class OutstandingLogins {
  // lru-cache: constant time per login however many come (a Map emptied from its front is not).
  readonly #states: LRUCache<string, LoginPlace>;
  /** each address's places; an address whose places all lapsed lapses with them */
  readonly #places: LRUCache<string, readonly LoginPlace[]>;
  readonly #lifetimeMs: number;
  readonly #perAddress: number;
  readonly #now: () => number;

  constructor(options: { readonly lifetimeMs: number; readonly now: () => number; readonly max?: number; readonly perAddress?: number }) {
    const max = options.max ?? MAX_OUTSTANDING_LOGINS;
    this.#lifetimeMs = options.lifetimeMs;
    this.#perAddress = options.perAddress ?? MAX_LOGINS_PER_ADDRESS;
    this.#now = options.now;
    const perf = { now: options.now };
    // Spent (delete) or pushed out (evict): the place is free again.
    this.#states = new LRUCache({ max, ttl: options.lifetimeMs, ttlResolution: 0, perf, dispose: (place) => this.release(place) });
    // An address holds a place for each of its states, so there are never more addresses than states (and claims under way).
    this.#places = new LRUCache({ max, ttl: options.lifetimeMs, ttlResolution: 0, perf });
  }

  get size(): number {
    return this.#states.size;
  }

  /** A place for one more login from `address` (its client key), held from now; or why not. */
  claim(address: string): LoginClaim {
    const now = this.#now();
    const held = (this.#places.get(address) ?? []).filter((place) => place.until > now);
    const decision = admitLoginStart(held.map((place) => place.until), now, this.#perAddress);
    if (!decision.allow) return decision;
    const place: LoginPlace = { address, until: now + this.#lifetimeMs };
    this.#places.set(address, [...held, place]);
    return { allow: true, place };
  }

  /** The login of `place` started with `state`: its callback may spend it once. When full, the oldest is forgotten. */
  add(state: string, place: LoginPlace): void {
    this.#states.set(state, place);
  }

  /** The place is free again: its login never started, or its state is gone. */
  release(place: LoginPlace): void {
    const held = this.#places.get(place.address);
    if (held === undefined) return;
    const rest = held.filter((p) => p !== place);
    if (rest.length === 0) this.#places.delete(place.address);
    else this.#places.set(place.address, rest, { noUpdateTTL: true });
  }

  /** Spends `state`: true once for a state `add`ed and not lapsed, false ever after (and for any other). */
  spend(state: string): boolean {
    const outstanding = this.#states.has(state);
    this.#states.delete(state);
    return outstanding;
  }
}
