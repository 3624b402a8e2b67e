/** The memory that makes a login's state single-use: spent once, lapses, bounded, fails closed. */
import { describe, expect, it } from 'vitest';
import { MAX_OUTSTANDING_LOGINS, OutstandingLogins } from '../../../src/sso/login-states.js';

const MINUTE = 60_000;
const START = Date.UTC(2026, 0, 1);

function logins(max?: number, perAddress?: number) {
  // A real clock's epoch milliseconds are never 0 (lru-cache reads a start of 0 as "no lifetime").
  const clock = { now: START };
  const store = new OutstandingLogins({ lifetimeMs: 10 * MINUTE, now: () => clock.now, ...(max === undefined ? {} : { max }), ...(perAddress === undefined ? {} : { perAddress }) });
  // a login started from one address (places per address are tested below)
  const add = (state: string, address = 'anyone') => {
    const claim = store.claim(`${address}#${state}`);
    if (!claim.allow) throw new Error('refused');
    store.add(state, claim.place);
  };
  return { store, clock, add };
}

/** Starts a login from `address` with `state`: true when it was let start. */
function startFrom(store: OutstandingLogins, address: string, state: string): boolean {
  const claim = store.claim(address);
  if (claim.allow) store.add(state, claim.place);
  return claim.allow;
}

describe('OutstandingLogins', () => {
  it('a state started here is spent once; every later spend, and any state never started, is refused', () => {
    const { store, add } = logins();
    add('s1');
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
    const { store, clock, add } = logins();
    add('s1');
    clock.now = START + after;
    expect(store.spend('s1')).toBe(spent);
  });

  it('full, the oldest outstanding state is pushed out: its callback is refused (closed), the newest still work', () => {
    const { store, add } = logins(3);
    for (const state of ['a', 'b', 'c', 'd']) add(state);
    expect(store.size).toBe(3);
    expect(store.spend('a')).toBe(false);
    expect(store.spend('b')).toBe(true);
    expect(store.spend('d')).toBe(true);
  });

  it('a million anonymous logins within the lifetime hold at most MAX_OUTSTANDING_LOGINS states', () => {
    const { store, add } = logins();
    for (let i = 0; i < 1_000_000; i++) add(`state-${i}`, `address-${i}`);
    expect(store.size).toBe(MAX_OUTSTANDING_LOGINS);
    expect(store.spend('state-0')).toBe(false);
    expect(store.spend('state-999999')).toBe(true);
  });
});

describe('OutstandingLogins: places per address', () => {
  it('an address holds at most perAddress logins; others are untouched', () => {
    const { store } = logins(undefined, 3);
    expect(['a', 'b', 'c', 'd'].map((s) => startFrom(store, '198.51.100.7', s))).toEqual([true, true, true, false]);
    expect(store.claim('198.51.100.7')).toEqual({ allow: false, reason: 'too-many-logins', retryAfter: 600 });
    expect(startFrom(store, '192.0.2.1', 'victim')).toBe(true);
    expect(store.spend('victim')).toBe(true);
  });

  it('a spent state frees its place at once; a replayed spend frees nothing more', () => {
    const { store } = logins(undefined, 2);
    startFrom(store, 'x', 'a');
    startFrom(store, 'x', 'b');
    expect(startFrom(store, 'x', 'c')).toBe(false);
    expect(store.spend('a')).toBe(true);
    expect(store.spend('a')).toBe(false);
    expect(startFrom(store, 'x', 'c')).toBe(true);
    expect(startFrom(store, 'x', 'd')).toBe(false);
  });

  it('a released claim (the login never started) frees its place', () => {
    const { store } = logins(undefined, 1);
    const claim = store.claim('x');
    expect(claim.allow).toBe(true);
    expect(store.claim('x').allow).toBe(false);
    if (claim.allow) store.release(claim.place);
    expect(store.claim('x').allow).toBe(true);
  });

  it('places lapse with their logins: Retry-After counts down to the oldest', () => {
    const { store, clock } = logins(undefined, 2);
    startFrom(store, 'x', 'a');
    clock.now += 4 * MINUTE;
    startFrom(store, 'x', 'b');
    clock.now += MINUTE;
    expect(store.claim('x')).toEqual({ allow: false, reason: 'too-many-logins', retryAfter: 300 });
    clock.now = START + 10 * MINUTE + 1;
    expect(startFrom(store, 'x', 'c')).toBe(true);
    expect(store.spend('a')).toBe(false);
  });

  it('a state pushed out of a full memory frees its place', () => {
    const { store } = logins(2, 1);
    startFrom(store, 'x', 'a');
    expect(startFrom(store, 'x', 'b')).toBe(false);
    startFrom(store, 'y', 'b');
    startFrom(store, 'z', 'c');
    expect(store.spend('a')).toBe(false);
    expect(startFrom(store, 'x', 'd')).toBe(true);
  });
});
