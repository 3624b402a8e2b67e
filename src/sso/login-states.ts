/**
 * The states of the logins this gate started and no callback has spent yet:
 * what makes a login's `state` single-use. The sealed login cookie proves
 * the gate made a state; only this memory proves nobody used it before, so
 * a replayed callback is refused before any request to the IdP.
 *
 * Bounded: at most `max` states, each good for the login cookie's lifetime
 * (a lapsed one is refused, and is pushed out first when room is needed). A
 * flood of anonymous logins pushes the oldest out, and a login whose state
 * was pushed out fails with "start again" — closed, never open. Held in this
 * process: a login started on one gate must come back to the same gate (or,
 * after a restart, start again); sharing them between gates is left to a
 * shared state store.
 */

import { LRUCache } from 'lru-cache';

/** Enough for every login of a busy site; about 12 MB when full (measured). */
export const MAX_OUTSTANDING_LOGINS = 100_000;

export class OutstandingLogins {
  // lru-cache: constant time per login however many come (a Map emptied from its front is not).
  readonly #states: LRUCache<string, true>;

  constructor(options: { readonly lifetimeMs: number; readonly now: () => number; readonly max?: number }) {
    this.#states = new LRUCache({ max: options.max ?? MAX_OUTSTANDING_LOGINS, ttl: options.lifetimeMs, ttlResolution: 0, perf: { now: options.now } });
  }

  get size(): number {
    return this.#states.size;
  }

  /** A login started with `state`: its callback may spend it once. When full, the oldest is forgotten. */
  add(state: string): void {
    this.#states.set(state, true);
  }

  /** Spends `state`: true once for a state `add`ed and not lapsed, false ever after (and for any other). */
  spend(state: string): boolean {
    const outstanding = this.#states.has(state);
    this.#states.delete(state);
    return outstanding;
  }
}
