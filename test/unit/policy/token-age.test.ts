import { describe, expect, it } from 'vitest';
import { tokenAge } from '../../../src/policy/token-age.js';

const NOW = 1_800_000_000;
const DAY = 86_400;
const limits = { maxAgeSec: DAY, toleranceSec: 60 };

describe('tokenAge', () => {
  it.each<[string, unknown, ReturnType<typeof tokenAge>]>([
    ['issued now', NOW, { ok: true, endsAt: NOW + DAY + 60 }],
    ['issued an hour ago', NOW - 3_600, { ok: true, endsAt: NOW - 3_600 + DAY + 60 }],
    ['issued 60 s ahead (within the tolerance)', NOW + 60, { ok: true, endsAt: NOW + 60 + DAY + 60 }],
    ['issued 61 s ahead', NOW + 61, { ok: false, reason: 'token-issued-in-future' }],
    ['issued ten years ahead', NOW + 10 * 365 * DAY, { ok: false, reason: 'token-issued-in-future' }],
    ['exactly maxAge + tolerance old', NOW - DAY - 60, { ok: true, endsAt: NOW }],
    ['one second older', NOW - DAY - 61, { ok: false, reason: 'token-too-old' }],
    ['25 hours old', NOW - 25 * 3_600, { ok: false, reason: 'token-too-old' }],
    ['no iat', undefined, { ok: false, reason: 'token-without-iat' }],
    ['iat as a string', String(NOW), { ok: false, reason: 'token-without-iat' }],
    ['iat NaN', Number.NaN, { ok: false, reason: 'token-without-iat' }],
    ['iat Infinity', Number.POSITIVE_INFINITY, { ok: false, reason: 'token-without-iat' }],
  ])('%s', (_name, iat, expected) => {
    expect(tokenAge(iat, NOW, limits)).toEqual(expected);
  });

  it('a longer maxAge accepts what the default refuses', () => {
    expect(tokenAge(NOW - 25 * 3_600, NOW, { maxAgeSec: 2 * DAY, toleranceSec: 60 })).toEqual({ ok: true, endsAt: NOW - 25 * 3_600 + 2 * DAY + 60 });
  });

  it('with no tolerance, a token issued one second ahead is refused', () => {
    expect(tokenAge(NOW + 1, NOW, { maxAgeSec: DAY, toleranceSec: 0 })).toEqual({ ok: false, reason: 'token-issued-in-future' });
  });
});
