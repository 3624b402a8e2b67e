import { describe, expect, it } from 'vitest';
import { decideKeyGrant, parseRfc3339, type Granter, type KeyGrant } from '../../../src/policy/key-grant.js';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const DAY = 86_400_000;
const at = (iso: string) => new Date(iso);

describe('parseRfc3339: what Go time.Parse(time.RFC3339, …) accepts', () => {
  const rows: Array<readonly [text: string, iso: string | null]> = [
    ['2030-01-02T15:04:05Z', '2030-01-02T15:04:05.000Z'],
    ['2030-01-02T15:04:05+02:00', '2030-01-02T13:04:05.000Z'],
    ['2030-01-02T15:04:05-07:30', '2030-01-02T22:34:05.000Z'],
    ['2030-01-02T15:04:05.5Z', '2030-01-02T15:04:05.500Z'],
    ['2030-01-02T15:04:05.123456789Z', '2030-01-02T15:04:05.123Z'],
    ['2030-01-02T15:04:05,25Z', '2030-01-02T15:04:05.250Z'],
    ['2028-02-29T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    ['2030-12-31T23:59:59+23:59', '2030-12-31T00:00:59.000Z'],
    ['0050-06-01T00:00:00Z', '0050-06-01T00:00:00.000Z'],
    ['2030-01-02', null],
    ['2030-01-02T15:04:05', null],
    ['2030-01-02T15:04Z', null],
    ['2030-01-02t15:04:05Z', null],
    ['2030-01-02T15:04:05z', null],
    ['2030-01-02 15:04:05Z', null],
    ['2030-01-02T15:04:05+0200', null],
    ['2030-01-02T15:04:05.Z', null],
    ['30-01-02T15:04:05Z', null],
    ['12030-01-02T15:04:05Z', null],
    ['2030-13-01T00:00:00Z', null],
    ['2030-00-01T00:00:00Z', null],
    ['2030-02-29T00:00:00Z', null],
    ['2030-04-31T00:00:00Z', null],
    ['2030-01-00T00:00:00Z', null],
    ['2030-01-02T24:00:00Z', null],
    ['2030-01-02T23:60:00Z', null],
    ['2030-01-02T23:59:60Z', null],
    ['2030-01-02T15:04:05+24:00', null],
    ['2030-01-02T15:04:05+01:60', null],
    ['2030-01-02T15:04:05Z ', null],
    [' 2030-01-02T15:04:05Z', null],
    ['', null],
  ];
  it.each(rows)('%j → %s', (text, iso) => {
    expect(parseRfc3339(text)?.toISOString() ?? null).toBe(iso);
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
