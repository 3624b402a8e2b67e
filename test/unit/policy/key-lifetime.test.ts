import { describe, expect, it } from 'vitest';
import { keyExpired, keyExpiry } from '../../../src/policy/key-lifetime.js';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const DAY = 86_400_000;

describe("keyExpiry: the sooner of the key's own expiry and createdAt + maxLifetime", () => {
  const rows: Array<readonly [expiresAt: string | null, maxLifetimeMs: number | null, expected: string | null]> = [
    [null, null, null],
    ['2030-02-01T00:00:00.000Z', null, '2030-02-01T00:00:00.000Z'],
    [null, 10 * DAY, '2030-01-11T00:00:00.000Z'],
    ['2030-02-01T00:00:00.000Z', 10 * DAY, '2030-01-11T00:00:00.000Z'],
    ['2030-01-05T00:00:00.000Z', 10 * DAY, '2030-01-05T00:00:00.000Z'],
  ];
  it.each(rows)('expiresAt %s, maxLifetime %s → %s', (expiresAt, maxLifetimeMs, expected) => {
    expect(keyExpiry({ createdAt: NOW.toISOString(), expiresAt }, maxLifetimeMs)?.toISOString() ?? null).toBe(expected);
  });
});

describe('keyExpired: from the moment of keyExpiry on', () => {
  const record = { createdAt: NOW.toISOString(), expiresAt: '2030-01-05T00:00:00.000Z' };
  it.each<[string, number | null, string, boolean]>([
    ['before its expiresAt', null, '2030-01-04T23:59:59.999Z', false],
    ['at its expiresAt', null, '2030-01-05T00:00:00.000Z', true],
    ['past createdAt + maxLifetime, before expiresAt', DAY, '2030-01-02T00:00:00.000Z', true],
    ['within maxLifetime', 2 * DAY, '2030-01-02T00:00:00.000Z', false],
  ])('%s', (_name, max, now, expired) => {
    expect(keyExpired(record, max, new Date(now))).toBe(expired);
  });
});
