import { describe, expect, it } from 'vitest';
import {
  checkKeyLabel,
  checkKeyScopes,
  decideKeyGrant,
  keyExpired,
  keyExpiry,
  lifetimeExpiry,
  scopesCover,
  type Granter,
  type KeyGrant,
} from '../../../src/policy/api-key.js';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const DAY = 86_400_000;
const at = (iso: string) => new Date(iso);

const CONTROL = { ok: false, reason: 'label-invalid', problem: 'control characters are not allowed' };
const LENGTH = { ok: false, reason: 'label-invalid', problem: 'give the key a name of 1 to 100 characters' };

describe('checkKeyLabel: the one rule for every way a key is made', () => {
  it.each<[string, string, unknown]>([
    ['a plain label', 'ci', { ok: true, label: 'ci' }],
    ['trimmed', '  ci build ', { ok: true, label: 'ci build' }],
    ['100 characters', 'x'.repeat(100), { ok: true, label: 'x'.repeat(100) }],
    ['letters of any script', 'Zürich-ビルド', { ok: true, label: 'Zürich-ビルド' }],
    ['empty', '', LENGTH],
    ['blank', '   ', LENGTH],
    ['101 characters', 'x'.repeat(101), LENGTH],
    ['ESC', 'a\u001b[31mb', CONTROL],
    ['NUL', 'a\u0000b', CONTROL],
    ['a newline inside', 'a\nb', CONTROL],
    ['a tab inside', 'a\tb', CONTROL],
    ['DEL', 'a\u007fb', CONTROL],
    ['C1 CSI', 'a\u009bb', CONTROL],
    ['a paragraph separator', 'a\u2029b', CONTROL],
    ['a right-to-left override', 'a\u202eb', CONTROL],
    ['a first-strong isolate', 'a\u2068b', CONTROL],
  ])('%s', (_name, text, expected) => {
    expect(checkKeyLabel(text)).toEqual(expected);
  });
});


describe('checkKeyScopes: at most 20 scopes, each a usable glob of at most 128 characters', () => {
  it.each<[string, string[], unknown]>([
    ['none', [], { ok: true }],
    ['usable globs', ['team/**', 'tools/*'], { ok: true }],
    ['the first unusable glob', ['ok/*', 'a/{b', 'c/['], { ok: false, reason: 'scope-invalid', scope: 'a/{b', problem: 'unclosed "{"' }],
    ['20 of 128 characters', Array.from({ length: 20 }, (_, i) => `r${i}/`.padEnd(128, 'x')), { ok: true }],
    ['21', Array.from({ length: 21 }, (_, i) => `r${i}`), { ok: false, reason: 'scope-count', problem: 'at most 20 patterns, not 21' }],
    ['the count before the globs', ['a/{b', ...Array.from({ length: 20 }, (_, i) => `r${i}`)], { ok: false, reason: 'scope-count', problem: 'at most 20 patterns, not 21' }],
    ['129 characters', ['ok/*', 'x'.repeat(129)], { ok: false, reason: 'scope-invalid', scope: 'x'.repeat(129), problem: 'longer than 128 characters' }],
    ['the length before the glob', [`[${'x'.repeat(128)}`], { ok: false, reason: 'scope-invalid', scope: `[${'x'.repeat(128)}`, problem: 'longer than 128 characters' }],
  ])('%s', (_name, scopes, expected) => {
    expect(checkKeyScopes(scopes)).toEqual(expected);
  });
});

describe('lifetimeExpiry: a lifetime asked as a duration (the account form, apikey create --expires)', () => {
  it.each<[string, string | null, number | null, unknown]>([
    ['none asked, no bound: no expiry', null, null, { ok: true, expiresAt: null }],
    ['none asked, a bound: the bound', null, 90 * DAY, { ok: true, expiresAt: at('2030-04-01T00:00:00Z') }],
    ['within the bound', '30d', 90 * DAY, { ok: true, expiresAt: at('2030-01-31T00:00:00Z') }],
    ['exactly the bound', '90d', 90 * DAY, { ok: true, expiresAt: at('2030-04-01T00:00:00Z') }],
    ['no bound', '12h', null, { ok: true, expiresAt: at('2030-01-01T12:00:00Z') }],
    ['beyond the bound', '91d', 90 * DAY, { ok: false, reason: 'expiration-beyond-max-lifetime', problem: '91d is longer than auth.apikey.maxLifetime (90d)' }],
    ['zero', '0d', null, { ok: false, reason: 'expiration-malformed', problem: '"0d" is not a duration such as 30d or 12h' }],
    ['not a duration', 'never', null, { ok: false, reason: 'expiration-malformed', problem: '"never" is not a duration such as 30d or 12h' }],
    ['empty', '', 90 * DAY, { ok: false, reason: 'expiration-malformed', problem: '"" is not a duration such as 30d or 12h' }],
  ])('%s', (_name, asked, max, expected) => {
    expect(lifetimeExpiry(asked, max, NOW)).toEqual(expected);
  });
});

describe('scopesCover(held, other): every glob of the other key within one of the held', () => {
  it.each<[string[], string[], boolean]>([
    [[], [], true],
    [[], ['team/**'], true],
    [['**'], [], true],
    [['team/**'], [], false],
    [['team/**'], ['team/a*', 'team/b/**'], true],
    [['team/**'], ['team/a', 'other/a'], false],
    [['team/**', 'other/*'], ['team/a', 'other/a'], true],
    [['team/a', 'team/b'], ['team/{a,b}'], false],
  ])('%j covers %j: %s', (held, other, covers) => {
    expect(scopesCover(held, other)).toBe(covers);
  });
});

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

describe('decideKeyGrant', () => {
  const session: Granter = { kind: 'session' };
  const unscopedKey: Granter = { kind: 'apikey', scopes: [], expiresAt: null };
  const teamKey: Granter = { kind: 'apikey', scopes: ['team/**'], expiresAt: at('2030-01-11T00:00:00Z') };
  const everythingKey: Granter = { kind: 'apikey', scopes: ['**'], expiresAt: null };

  type Row = readonly [name: string, granter: Granter, scopes: string[], expirationDate: string, maxLifetimeMs: number | null, expected: KeyGrant];
  const allow = (iso: string | null): KeyGrant => ({ allow: true, expiresAt: iso === null ? null : at(iso) });
  const refuse = (reason: string, message: string) => ({ allow: false, reason, message }) as KeyGrant;

  const rows: Row[] = [
    ['session, no expiry, no bound → never expires', session, [], '', null, allow(null)],
    ['session, no expiry, maxLifetime → the maximum', session, [], '', 90 * DAY, allow('2030-04-01T00:00:00Z')],
    ['session, expiry within maxLifetime', session, ['x/**'], '2030-02-01T00:00:00Z', 90 * DAY, allow('2030-02-01T00:00:00Z')],
    ['session, expiry exactly at maxLifetime', session, [], '2030-04-01T00:00:00Z', 90 * DAY, allow('2030-04-01T00:00:00Z')],
    ['session, expiry with an offset', session, [], '2030-01-02T02:00:00+02:00', null, allow('2030-01-02T00:00:00Z')],
    ['session, any scopes', session, ['other/**', '**'], '', null, allow(null)],
    ['session, beyond maxLifetime', session, [], '2030-04-01T00:00:01Z', 90 * DAY,
      refuse('expiration-beyond-max-lifetime', 'expirationDate 2030-04-01T00:00:01Z is further away than auth.apikey.maxLifetime (90d) allows')],
    ['past expiry', session, [], '2029-12-31T23:59:59Z', null, refuse('expiration-past', 'expirationDate 2029-12-31T23:59:59Z is not in the future')],
    ['expiry equal to now', session, [], '2030-01-01T00:00:00Z', null, refuse('expiration-past', 'expirationDate 2030-01-01T00:00:00Z is not in the future')],
    ['malformed expiry', session, [], '2030-02-01', null,
      refuse('expiration-malformed', 'expirationDate "2030-02-01" is not an RFC 3339 date-time such as 2030-01-02T15:04:05Z')],
    ['invalid scope glob', session, ['ok/**', 'team/['], '', null, refuse('scope-invalid', 'scope "team/[" is not a valid repository glob: unclosed "["')],
    ['invalid scope wins over a malformed expiry', unscopedKey, ['{a'], 'nope', null, refuse('scope-invalid', 'scope "{a" is not a valid repository glob: unclosed "{"')],
    ['unscoped key: any scopes, any expiry', unscopedKey, ['**'], '2031-01-01T00:00:00Z', null, allow('2031-01-01T00:00:00Z')],
    ['unscoped key: an unscoped key', unscopedKey, [], '', null, allow(null)],
    ['"**" key: an unscoped key', everythingKey, [], '', null, allow(null)],
    ['scoped key: a literal inside', teamKey, ['team/app'], '', null, allow('2030-01-11T00:00:00Z')],
    ['scoped key: a glob under its prefix, earlier expiry', teamKey, ['team/*', 'team/app'], '2030-01-05T00:00:00Z', null, allow('2030-01-05T00:00:00Z')],
    ['scoped key: its own expiry exactly', teamKey, ['team/**'], '2030-01-11T00:00:00Z', null, allow('2030-01-11T00:00:00Z')],
    ['scoped key: no expiry asked, maxLifetime sooner than its own', teamKey, ['team/**'], '', 5 * DAY, allow('2030-01-06T00:00:00Z')],
    ['scoped key: one scope outside', teamKey, ['team/app', 'other/app'], '', null,
      refuse('scope-not-covered', 'scope "other/app" is outside the scopes of the API key making this request ("team/**"); a key can only create keys within its own scopes')],
    ['scoped key: an unscoped key', teamKey, [], '', null,
      refuse('scope-not-covered', 'a key without scopes (every repository) is outside the scopes of the API key making this request ("team/**"); a key can only create keys within its own scopes')],
    ['scoped key: later than its own expiry', teamKey, ['team/app'], '2030-01-11T00:00:01Z', null,
      refuse('expiration-beyond-caller-key', 'expirationDate 2030-01-11T00:00:01Z is later than the API key making this request, which expires at 2030-01-11T00:00:00.000Z')],
    ['scope is checked before the caller key\'s expiry', teamKey, ['other/**'], '2030-06-01T00:00:00Z', null,
      refuse('scope-not-covered', 'scope "other/**" is outside the scopes of the API key making this request ("team/**"); a key can only create keys within its own scopes')],
    ['maxLifetime is checked before the caller key\'s limits', teamKey, ['other/**'], '2030-06-01T00:00:00Z', 90 * DAY,
      refuse('expiration-beyond-max-lifetime', 'expirationDate 2030-06-01T00:00:00Z is further away than auth.apikey.maxLifetime (90d) allows')],
  ];
  it.each(rows)('%s', (_name, granter, scopes, expirationDate, maxLifetimeMs, expected) => {
    expect(decideKeyGrant(granter, { scopes, expirationDate }, { now: NOW, maxLifetimeMs })).toEqual(expected);
  });
});
