/**
 * The throttle's rules as a table: what one more failure of a key does,
 * and which refusals count as guesses at all.
 */
import { describe, expect, it } from 'vitest';
import { countsAsGuess, NO_FAILURES, recordFailure, secretKindOf, usernameLockChecksFirst, type FailureRecord, type ThrottleLimits } from '../../../src/policy/throttle.js';

const LIMITS: ThrottleLimits = {
  windowMs: 600_000,
  delayAfter: 2,
  failDelayMs: 1_000,
  address: { maxFailures: 4, lockForMs: 60_000, maxLockForMs: 240_000 },
  username: { maxFailures: 0, lockForMs: 60_000, maxLockForMs: 60_000 },
};
const NOW = 10_000_000;
const record = (over: Partial<FailureRecord>): FailureRecord => ({ ...NO_FAILURES, ...over });

describe('recordFailure', () => {
  it.each<[string, FailureRecord, 'address' | 'username', unknown]>([
    ['a first failure waits failDelay', NO_FAILURES, 'address', { record: record({ failures: [NOW] }), delayMs: 1_000 }],
    ['the third in the window waits twice as long', record({ failures: [NOW - 2, NOW - 1] }), 'address', { record: record({ failures: [NOW - 2, NOW - 1, NOW] }), delayMs: 2_000 }],
    [
      'failures older than the window are forgotten',
      record({ failures: [NOW - 700_000, NOW - 650_000, NOW - 1] }),
      'address',
      { record: record({ failures: [NOW - 1, NOW] }), delayMs: 1_000 },
    ],
    [
      'the fourth locks for lockFor and forgets the failures',
      record({ failures: [NOW - 3, NOW - 2, NOW - 1] }),
      'address',
      { record: { failures: [], lockedUntil: NOW + 60_000, strikes: 1 }, lock: { scope: 'address', until: NOW + 60_000, retryAfter: 60 } },
    ],
    [
      'a lock within a window of the last one doubles',
      record({ failures: [NOW - 3, NOW - 2, NOW - 1], lockedUntil: NOW - 1_000, strikes: 1 }),
      'address',
      { record: { failures: [], lockedUntil: NOW + 120_000, strikes: 2 }, lock: { scope: 'address', until: NOW + 120_000, retryAfter: 120 } },
    ],
    [
      'doubling stops at maxLockFor',
      record({ failures: [NOW - 3, NOW - 2, NOW - 1], lockedUntil: NOW - 1_000, strikes: 5 }),
      'address',
      { record: { failures: [], lockedUntil: NOW + 240_000, strikes: 6 }, lock: { scope: 'address', until: NOW + 240_000, retryAfter: 240 } },
    ],
    [
      'a scope with maxFailures 0 never locks',
      record({ failures: [NOW - 3, NOW - 2, NOW - 1] }),
      'username',
      { record: record({ failures: [NOW - 3, NOW - 2, NOW - 1, NOW] }), delayMs: 4_000 },
    ],
  ])('%s', (_name, before, scope, expected) => {
    expect(recordFailure(before, scope, LIMITS, NOW)).toEqual(expected);
  });

  it('without failDelay no failure waits', () => {
    expect(recordFailure(record({ failures: [NOW - 2, NOW - 1] }), 'address', { ...LIMITS, failDelayMs: 0 }, NOW)).toEqual({
      record: record({ failures: [NOW - 2, NOW - 1, NOW] }),
      delayMs: 0,
    });
  });
});

describe('countsAsGuess', () => {
  it.each([
    ['invalid-credentials', true],
    ['unknown-key', true],
    ['malformed-authorization', true],
    ['expired-token', false],
    ['issuer-unavailable', false],
    ['bearer-at-token-endpoint', false],
    ['login-expired', false],
    ['login-state-reused', true],
    ['login-failed', true],
  ])('%s → %s', (failure, counted) => {
    expect(countsAsGuess(failure)).toBe(counted);
  });
});

describe('secretKindOf and usernameLockChecksFirst: which credentials a username lock refuses unchecked', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJl';
  it.each<[string, Parameters<typeof secretKindOf>[0], string, boolean]>([
    ['an API key', { kind: 'basic', password: `zak_${'0'.repeat(32)}` }, 'api-key', false],
    ['a malformed API key is still looked up as one', { kind: 'basic', password: 'zak_short' }, 'api-key', false],
    ['a trusted JWT as the Basic password', { kind: 'basic', password: jwt }, 'signed-token', false],
    ['a Bearer token (gate token or trusted JWT)', { kind: 'bearer' }, 'signed-token', false],
    ['a password', { kind: 'basic', password: 'hunter2' }, 'password', true],
    ['two dots are not enough for a token', { kind: 'basic', password: 'a.b' }, 'password', true],
    ['a token with characters outside base64url', { kind: 'basic', password: 'a.b+c.d' }, 'password', true],
  ])('%s → %s, refused unchecked: %s', (_name, credentials, kind, first) => {
    expect(secretKindOf(credentials)).toBe(kind);
    expect(usernameLockChecksFirst(secretKindOf(credentials))).toBe(first);
  });
});
