/**
 * The throttle model (src/identity/auth-throttle.ts) as tables: exact
 * delays, lock lengths, Retry-After values and what is held in memory, on a
 * clock the test moves by hand.
 */
import { describe, expect, it } from 'vitest';
import { AuthThrottle, clientKey, KNOWN_ADDRESSES, type Attempt, type FailureOutcome } from '../../../src/identity/auth-throttle.js';
import { delayFor, MAX_DELAY_MS, type ThrottleLimits } from '../../../src/policy/throttle.js';

const LIMITS: ThrottleLimits = {
  windowMs: 60_000,
  delayAfter: 2,
  failDelayMs: 100,
  address: { maxFailures: 5, lockForMs: 10_000, maxLockForMs: 40_000 },
  username: { maxFailures: 8, lockForMs: 10_000, maxLockForMs: 10_000 },
};

const A: Attempt = { address: '203.0.113.1' };
const delay = (delayMs: number): FailureOutcome => ({ kind: 'delay', delayMs });
const locked = (scope: 'address' | 'username', until: number, retryAfter: number, started = [scope]): FailureOutcome => ({
  kind: 'locked',
  lock: { scope, until, retryAfter },
  started,
});

/** Fails `attempt` at each time in `times`; returns the outcomes. */
function failAt(throttle: AuthThrottle, attempt: Attempt, times: readonly number[], limits = LIMITS): FailureOutcome[] {
  return times.map((t) => throttle.fail(attempt, limits, t));
}

describe('delayFor: failDelay alone up to delayAfter, then doubling, capped', () => {
  it.each([
    [1, 2, 100, 100],
    [2, 2, 100, 100],
    [3, 2, 100, 200],
    [4, 2, 100, 400],
    [9, 2, 100, 10_000], // 100 × 2^7 = 12.8 s, capped
    [1000, 2, 100, MAX_DELAY_MS],
    [1, 0, 100, 200],
    [5, 2, 0, 0], // failDelay 0: never delayed
    [3, 0, 20_000, 20_000], // a failDelay above the cap is kept, not doubled
  ])('failure %i, delayAfter %i, failDelay %i ms → %i ms', (count, delayAfter, failDelayMs, ms) => {
    expect(delayFor(count, { delayAfter, failDelayMs })).toBe(ms);
  });
});

describe('per address', () => {
  it('delays, then locks at maxFailures for lockFor; Retry-After counts down in whole seconds, at least 1', () => {
    const throttle = new AuthThrottle();
    expect(failAt(throttle, A, [0, 1000, 2000, 3000, 4000])).toEqual([delay(100), delay(100), delay(200), delay(400), locked('address', 14_000, 10)]);
    expect([4000, 4001, 13_000, 13_001, 13_999, 14_000].map((t) => throttle.check(A, t))).toEqual([
      { scope: 'address', until: 14_000, retryAfter: 10 },
      { scope: 'address', until: 14_000, retryAfter: 10 },
      { scope: 'address', until: 14_000, retryAfter: 1 },
      { scope: 'address', until: 14_000, retryAfter: 1 },
      { scope: 'address', until: 14_000, retryAfter: 1 },
      null,
    ]);
    // the lock started afresh: the count begins again after it
    expect(throttle.fail(A, LIMITS, 14_000)).toEqual(delay(100));
  });

  it('a failure that lands while a lock is in place starts nothing new', () => {
    const throttle = new AuthThrottle();
    failAt(throttle, A, [0, 0, 0, 0, 0]);
    expect(throttle.fail(A, LIMITS, 500)).toEqual(locked('address', 10_000, 10, []));
  });

  it('a lock within a window of the previous one doubles, up to maxLockFor; later, it is a first lock again', () => {
    const throttle = new AuthThrottle();
    const burst = (from: number) => failAt(throttle, A, [from, from, from, from, from]).at(-1);
    expect(burst(0)).toEqual(locked('address', 10_000, 10));
    expect(burst(10_000)).toEqual(locked('address', 30_000, 20));
    expect(burst(30_000 + 60_000)).toEqual(locked('address', 130_000, 40)); // exactly a window after the end: still a repeat
    expect(burst(130_000)).toEqual(locked('address', 170_000, 40)); // capped at maxLockFor
    expect(burst(170_000 + 60_001)).toEqual(locked('address', 240_001, 10));
  });

  it('counts failures in a sliding window', () => {
    const throttle = new AuthThrottle();
    failAt(throttle, A, [0, 1000, 2000, 3000]);
    // at 60 s the failure at 0 has left the window: four are in it, not five
    expect(throttle.fail(A, LIMITS, 60_000)).toEqual(delay(400));
    expect(throttle.fail(A, LIMITS, 60_500)).toEqual(locked('address', 70_500, 10));
  });

  it('with failDelay 0 nothing waits, and the lock still comes', () => {
    const limits = { ...LIMITS, failDelayMs: 0 };
    expect(failAt(new AuthThrottle(), A, [0, 1, 2, 3, 4], limits)).toEqual([delay(0), delay(0), delay(0), delay(0), locked('address', 10_004, 10)]);
  });

  it('maxFailures 0 never locks', () => {
    const limits = { ...LIMITS, address: { ...LIMITS.address, maxFailures: 0 } };
    const outcomes = failAt(new AuthThrottle(), A, Array.from({ length: 50 }, (_, i) => i), limits);
    expect(outcomes.every((o) => o.kind === 'delay')).toBe(true);
    expect(outcomes.at(-1)).toEqual(delay(10_000));
  });

  it('addresses are counted apart, and a success clears nothing', () => {
    const throttle = new AuthThrottle();
    const other: Attempt = { address: '203.0.113.2' };
    failAt(throttle, A, [0, 1, 2, 3]);
    throttle.succeed(A.address, 'alice');
    expect(throttle.fail(other, LIMITS, 4)).toEqual(delay(100));
    expect(throttle.fail(A, LIMITS, 5)).toEqual(locked('address', 10_005, 10));
    expect(throttle.check(other, 6)).toBeNull();
  });
});

describe('per username', () => {
  const alice = (address: string): Attempt => ({ address, username: 'alice' });

  it('failures for one user from many addresses lock the user for lockFor, at every address it never authenticated from', () => {
    const throttle = new AuthThrottle();
    const outcomes = Array.from({ length: 8 }, (_, i) => throttle.fail(alice(`198.51.100.${i}`), LIMITS, i * 100));
    // each address failed once (100 ms); the user's own count sets the delay
    expect(outcomes.slice(0, 7)).toEqual([100, 100, 200, 400, 800, 1600, 3200].map(delay));
    expect(outcomes[7]).toEqual(locked('username', 10_700, 10));
    expect(throttle.check(alice('192.0.2.9'), 1000)).toEqual({ scope: 'username', until: 10_700, retryAfter: 10 });
    // another user from the same addresses is not locked
    expect(throttle.check({ address: '198.51.100.0', username: 'bob' }, 1000)).toBeNull();
  });

  it('an address the user authenticated from is not locked by the username, and its failures do not count for it', () => {
    const throttle = new AuthThrottle();
    throttle.succeed('192.0.2.1', 'alice');
    Array.from({ length: 8 }, (_, i) => throttle.fail(alice(`198.51.100.${i}`), LIMITS, i));
    expect(throttle.check(alice('192.0.2.1'), 10)).toBeNull();
    expect(throttle.check(alice('192.0.2.2'), 10)?.scope).toBe('username');
    // from the known address, a failure counts for the address alone
    expect(throttle.fail(alice('192.0.2.1'), LIMITS, 20)).toEqual(delay(100));
  });

  it('a failure while the username is locked still counts for its address, which then locks too', () => {
    const throttle = new AuthThrottle();
    Array.from({ length: 8 }, (_, i) => throttle.fail(alice(`198.51.100.${i}`), LIMITS, 0));
    const outcomes = failAt(throttle, alice('192.0.2.9'), [1, 2, 3, 4, 5]);
    expect(outcomes.slice(0, 4)).toEqual(Array(4).fill(locked('username', 10_000, 10, [])));
    expect(outcomes[4]).toEqual({ kind: 'locked', lock: { scope: 'address', until: 10_005, retryAfter: 10 }, started: ['address'] });
    // without a username (a key or token checked before the username lock) only the address's lock is seen
    expect(throttle.check({ address: '192.0.2.10' }, 6)).toBeNull();
  });

  it("a username's locks do not grow", () => {
    const throttle = new AuthThrottle();
    const burst = (from: number) => Array.from({ length: 8 }, (_, i) => throttle.fail(alice(`198.51.100.${i}`), LIMITS, from)).at(-1);
    expect(burst(0)).toEqual(locked('username', 10_000, 10));
    expect(burst(10_000)).toEqual(locked('username', 20_000, 10));
  });

  it('when address and username are both locked, Retry-After covers the later end', () => {
    const throttle = new AuthThrottle();
    const limits = { ...LIMITS, username: { ...LIMITS.username, maxFailures: 5, lockForMs: 30_000, maxLockForMs: 30_000 } };
    const last = failAt(throttle, alice('198.51.100.1'), [0, 0, 0, 0, 0], limits).at(-1);
    expect(last).toEqual({ kind: 'locked', lock: { scope: 'username', until: 30_000, retryAfter: 30 }, started: ['address', 'username'] });
    expect(throttle.check(alice('198.51.100.1'), 10_000)).toEqual({ scope: 'username', until: 30_000, retryAfter: 20 });
    expect(throttle.check({ address: '198.51.100.1' }, 10_000)).toBeNull();
  });
});

describe('memory is bounded', () => {
  it('keeps at most maxKeys keys per scope; the least recently used go first', () => {
    const throttle = new AuthThrottle({ maxKeys: 3 });
    failAt(throttle, A, [0, 0, 0, 0, 0]);
    expect(throttle.check(A, 1)).not.toBeNull();
    for (let i = 0; i < 5; i++) throttle.fail({ address: `198.51.100.${i}`, username: `user${i}` }, LIMITS, 1);
    expect(throttle.held()).toEqual({ address: 3, username: 3, known: 0, failures: 6 });
    expect(throttle.check(A, 2)).toBeNull(); // forgotten, the price of the bound
  });

  it('keeps at most max(maxFailures, delayAfter + 16) failure times per key', () => {
    const limits = { ...LIMITS, address: { ...LIMITS.address, maxFailures: 0 } };
    const throttle = new AuthThrottle();
    for (let t = 0; t < 500; t++) throttle.fail(A, limits, t);
    expect(throttle.held().failures).toBe(18);
  });

  it(`keeps ${KNOWN_ADDRESSES} known addresses per user, the most recent`, () => {
    const throttle = new AuthThrottle();
    for (let i = 0; i <= KNOWN_ADDRESSES; i++) throttle.succeed(`192.0.2.${i}`, 'alice');
    Array.from({ length: 8 }, (_, i) => throttle.fail({ address: `198.51.100.${i}`, username: 'alice' }, LIMITS, 0));
    expect(throttle.check({ address: '192.0.2.0', username: 'alice' }, 1)?.scope).toBe('username');
    expect(throttle.check({ address: '192.0.2.1', username: 'alice' }, 1)).toBeNull();
    expect(throttle.held().known).toBe(1);
  });
});

describe('clientKey: the key an address is counted under', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::FFFF:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002::1', '2001:db8:1:2::/64'],
    ['2001:db8::', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
    ['1:2:3:4:5:6:192.0.2.1', '1:2:3:4::/64'],
    ['not-an-address', 'not-an-address'],
  ])('%s → %s', (address, key) => {
    expect(clientKey(address)).toBe(key);
  });
});
