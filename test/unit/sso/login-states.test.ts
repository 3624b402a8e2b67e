/** The memory that makes a login's state single-use: spent once, lapses, bounded, fails closed. */
import { describe, expect, it } from 'vitest';
import { MAX_OUTSTANDING_LOGINS, OutstandingLogins } from '../../../src/sso/login-states.js';

const MINUTE = 60_000;
const START = Date.UTC(2026, 0, 1);

function logins(max?: number) {
  // A real clock's epoch milliseconds are never 0 (lru-cache reads a start of 0 as "no lifetime").
  const clock = { now: START };
  const store = new OutstandingLogins({ lifetimeMs: 10 * MINUTE, now: () => clock.now, ...(max === undefined ? {} : { max }) });
  return { store, clock };
}

describe('OutstandingLogins', () => {
  it('a state started here is spent once; every later spend, and any state never started, is refused', () => {
    const { store } = logins();
    store.add('s1');
    expect(store.spend('never-started')).toBe(false);
    expect(store.spend('s1')).toBe(true);
    expect(store.spend('s1')).toBe(false);
    expect(store.spend('s1')).toBe(false);
  });

  it.each([
    ['as its lifetime ends', true, 10 * MINUTE],
    ['a millisecond later', false, 10 * MINUTE + 1],
    ['long after', false, 60 * MINUTE],
  ])('%s: spent %s', (_when, spent, after) => {
    const { store, clock } = logins();
    store.add('s1');
    clock.now = START + after;
    expect(store.spend('s1')).toBe(spent);
  });

  it('full, the oldest outstanding state is pushed out: its callback is refused (closed), the newest still work', () => {
    const { store } = logins(3);
    for (const state of ['a', 'b', 'c', 'd']) store.add(state);
    expect(store.size).toBe(3);
    expect(store.spend('a')).toBe(false);
    expect(store.spend('b')).toBe(true);
    expect(store.spend('d')).toBe(true);
  });

  it('a million anonymous logins within the lifetime hold at most MAX_OUTSTANDING_LOGINS states', () => {
    const { store } = logins();
    for (let i = 0; i < 1_000_000; i++) store.add(`state-${i}`);
    expect(store.size).toBe(MAX_OUTSTANDING_LOGINS);
    expect(store.spend('state-0')).toBe(false);
    expect(store.spend('state-999999')).toBe(true);
  });
});
