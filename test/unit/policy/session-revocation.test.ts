import { describe, expect, it } from 'vitest';
import { addRevocation, inForce, MAX_REVOKED_SESSIONS, sessionStanding, type Revocation } from '../../../src/policy/session-revocation.js';

const NOW = 1_800_000_000;
const id = (n: number) => `session-id-${String(n).padStart(11, '0')}`;
const r = (n: number, expiresAt: number): Revocation => ({ id: id(n), expiresAt });

describe('sessionStanding: does a well-sealed session still stand?', () => {
  const revoked = new Set([id(1)]);
  it.each([
    ['an id nobody revoked', id(2), { ok: true, id: id(2) }],
    ['a revoked id', id(1), { ok: false, reason: 'session-revoked' }],
    ['no id: sealed before sessions had ids', undefined, { ok: false, reason: 'session-without-id' }],
    ['an id that is not a string', 12345, { ok: false, reason: 'session-without-id' }],
    ['an empty id', '', { ok: false, reason: 'session-without-id' }],
    ['an id too short to be random', 'abc', { ok: false, reason: 'session-without-id' }],
    ['an id with characters outside base64url', 'session id with spaces!', { ok: false, reason: 'session-without-id' }],
    ['an id of 65 characters', 'a'.repeat(65), { ok: false, reason: 'session-without-id' }],
  ])('%s', (_name, sessionId, expected) => {
    expect(sessionStanding(sessionId, revoked)).toEqual(expected);
  });
});

describe('inForce: revocations outlive their session only until it expires', () => {
  it.each([
    ['empty', [], []],
    ['all in force', [r(1, NOW + 1), r(2, NOW + 7200)], [r(1, NOW + 1), r(2, NOW + 7200)]],
    ['expiring now is pruned (the seal refuses it at its exp)', [r(1, NOW)], []],
    ['expired long ago', [r(1, NOW - 86_400), r(2, NOW + 60)], [r(2, NOW + 60)]],
  ])('%s', (_name, list, expected) => {
    expect(inForce(list, NOW)).toEqual(expected);
  });
});

describe('addRevocation', () => {
  it.each([
    ['a new session: added', [r(1, NOW + 60)], r(2, NOW + 120), { ok: true, revocations: [r(1, NOW + 60), r(2, NOW + 120)], changed: true }],
    ['expired ones are pruned on the way', [r(1, NOW - 1), r(3, NOW + 5)], r(2, NOW + 120), { ok: true, revocations: [r(3, NOW + 5), r(2, NOW + 120)], changed: true }],
    ['a session revoked already: nothing to write', [r(1, NOW + 60)], r(1, NOW + 60), { ok: true, revocations: [r(1, NOW + 60)], changed: false }],
    ['revoked already, and something expired: write the pruned list', [r(9, NOW - 1), r(1, NOW + 60)], r(1, NOW + 60), { ok: true, revocations: [r(1, NOW + 60)], changed: true }],
    ['a session expired already: nothing to remember', [], r(2, NOW), { ok: true, revocations: [], changed: false }],
  ])('%s', (_name, list, revocation, expected) => {
    expect(addRevocation(list, revocation, NOW)).toEqual(expected);
  });

  it('a full list refuses a new revocation rather than drop one in force', () => {
    const full = [r(1, NOW + 60), r(2, NOW + 60), r(3, NOW + 60)];
    expect(addRevocation(full, r(4, NOW + 60), NOW, 3)).toEqual({ ok: false, reason: 'revocation-store-full' });
    // one revoked already still answers, and an expiry frees a place
    expect(addRevocation(full, r(2, NOW + 60), NOW, 3)).toEqual({ ok: true, revocations: full, changed: false });
    expect(addRevocation([r(0, NOW - 1), ...full.slice(1)], r(4, NOW + 60), NOW, 3)).toEqual({ ok: true, revocations: [...full.slice(1), r(4, NOW + 60)], changed: true });
  });

  it('the default cap is 10,000 revocations in force', () => {
    const full = Array.from({ length: MAX_REVOKED_SESSIONS }, (_, n) => r(n, NOW + 60));
    expect(MAX_REVOKED_SESSIONS).toBe(10_000);
    expect(addRevocation(full, r(MAX_REVOKED_SESSIONS, NOW + 60), NOW)).toEqual({ ok: false, reason: 'revocation-store-full' });
    expect(addRevocation(full.slice(1), r(MAX_REVOKED_SESSIONS, NOW + 60), NOW).ok).toBe(true);
  });
});
