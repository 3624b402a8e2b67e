import { describe, expect, it } from 'vitest';
import { sessionExpiry, sessionLive } from '../../../src/policy/session-lifetime.js';

const ISSUED = 1_800_000_000;
const HOUR_MS = 3_600_000;
/** sealed at sign-in with a 2h maxAge */
const times = { issuedAt: ISSUED, sealedUntil: ISSUED + 7_200 };

describe('sessionExpiry / sessionLive', () => {
  it.each<[string, number, number, number, boolean]>([
    // name, current maxAge, now (seconds after issue), expected expiry (seconds after issue), live
    ['maxAge unchanged, within it', 2 * HOUR_MS, 3_600, 7_200, true],
    ['maxAge unchanged, at its end', 2 * HOUR_MS, 7_200, 7_200, false],
    ['lowered to 1h, 30 min old', HOUR_MS, 1_800, 3_600, true],
    ['lowered to 1h, 61 min old', HOUR_MS, 3_660, 3_600, false],
    ['lowered to 1 s, 2 s old', 1_000, 2, 1, false],
    ['lowered to 1.9 s: whole seconds only', 1_900, 1, 1, false],
    ['raised to 24h: never past the sealed expiry', 24 * HOUR_MS, 7_199, 7_200, true],
    ['raised to 24h, past the sealed expiry', 24 * HOUR_MS, 7_200, 7_200, false],
    ['maxAge 0', 0, 0, 0, false],
  ])('%s', (_name, maxAgeMs, age, expiry, live) => {
    expect(sessionExpiry(times, maxAgeMs)).toBe(ISSUED + expiry);
    expect(sessionLive(times, maxAgeMs, ISSUED + age)).toBe(live);
  });
});
