/** The per-address limit on sign-ins under way: a table from outstanding logins and the clock to the decision. */
import { describe, expect, it } from 'vitest';
import { admitLoginStart, MAX_LOGINS_PER_ADDRESS } from '../../../src/policy/login-starts.js';

const NOW = 1_000_000;
const lapsingIn = (...ms: number[]) => ms.map((m) => NOW + m);
const times = (n: number, ms: number) => Array<number>(n).fill(NOW + ms);

describe('admitLoginStart', () => {
  it.each<[string, readonly number[], number | undefined, unknown]>([
    ['none under way', [], undefined, { allow: true }],
    ['19 under way', times(19, 60_000), undefined, { allow: true }],
    ['20 under way: refused until the oldest lapses', [...times(19, 600_000), NOW + 120_000], undefined, { allow: false, reason: 'too-many-logins', retryAfter: 120 }],
    ['lapsed ones do not count', [...times(19, 60_000), NOW, NOW - 1], undefined, { allow: true }],
    ['a lapse within the second still says 1 s', [...times(19, 600_000), NOW + 1], undefined, { allow: false, reason: 'too-many-logins', retryAfter: 1 }],
    ['part of a second rounds up', lapsingIn(1_500, 9_000), 2, { allow: false, reason: 'too-many-logins', retryAfter: 2 }],
    ['more than the limit (claims raced): still refused', times(25, 600_000), undefined, { allow: false, reason: 'too-many-logins', retryAfter: 600 }],
    ['a limit of 1', lapsingIn(10_000), 1, { allow: false, reason: 'too-many-logins', retryAfter: 10 }],
  ])('%s', (_name, outstanding, max, expected) => {
    expect(admitLoginStart(outstanding, NOW, max)).toEqual(expected);
  });

  it('the limit is 20', () => {
    expect(MAX_LOGINS_PER_ADDRESS).toBe(20);
  });
});
