/**
 * Properties of the Authorization parser (issue 8; README, "How clients prove who they are"): any
 * raw header list is answered without throwing; two Authorization headers
 * are refused whatever they hold; well-formed Basic and Bearer credentials
 * come back exactly; a header that is present never turns into "no
 * credentials" except for `Basic Og==` (zot's "anonymous"), so bad
 * credentials are a 401, never a silent fall back to anonymous.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAuthorization } from '../../src/identity/credentials.js';
import { runs } from './support/runs.js';

const RUNS = runs(1500);

const authorizationName = fc.constantFrom('Authorization', 'authorization', 'AUTHORIZATION', 'aUtHoRiZaTiOn');
/** Names that are not `authorization`, some of them close. */
const otherName = fc.oneof(
  fc.constantFrom('Host', 'Proxy-Authorization', 'Authorization ', 'X-Authorization', 'Authorisation', 'Cookie', 'WWW-Authenticate', 'AUTHORİZATİON'),
  fc.string({ maxLength: 12 }).filter((name) => name.toLowerCase() !== 'authorization'),
);
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const ws = fc.constantFrom('', ' ', '  ', '\t', ' \t ');
const schemeCase = (scheme: string) => fc.array(fc.boolean(), { minLength: scheme.length, maxLength: scheme.length })
  .map((upper) => [...scheme].map((char, i) => (upper[i] ? char.toUpperCase() : char)).join(''));

/** One character: often one that parsers trip on, else any code point. */
const tricky = fc.oneof(fc.constantFrom(...':\u0000é😀 =\t\r\n%'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));

/** Authorization values: well-formed, almost well-formed, and anything. */
const value = fc.oneof(
  fc.tuple(fc.string({ unit: tricky, maxLength: 20 }), fc.string({ unit: tricky, maxLength: 20 })).map(([u, p]) => `Basic ${b64(`${u}:${p}`)}`),
  fc.string({ unit: 'binary', maxLength: 30 }).map((text) => `Basic ${b64(text)}`),
  fc.string({ unit: 'binary', maxLength: 30 }).map((text) => `Basic ${b64(text).replace(/=+$/, '')}`),
  fc.constantFrom('Basic Og==', 'Basic Oh==', 'Basic Og', 'Basic Og=', 'Basic Og===', 'Basic ====', 'Basic', 'Basic ', 'basic  Og==', 'Bearer', 'Bearer ', 'Bearer a b', 'Bearer =', ''),
  fc.string({ unit: fc.constantFrom(...'ABCabc012+/=-._~ '), maxLength: 40 }).map((token) => `Bearer ${token}`),
  fc.tuple(fc.constantFrom('Basic', 'Bearer', 'Digest', 'Negotiate', 'Basic\t', 'Bearer:'), fc.string({ unit: 'binary', maxLength: 40 })).map(([scheme, rest]) => `${scheme} ${rest}`),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer({ min: 1_000, max: 20_000 }).map((size) => `Basic ${'QUFB'.repeat(size)}`),
);

const otherHeader = fc.tuple(otherName, fc.oneof(value, fc.constantFrom('Authorization', 'authorization')));
const headerList = (auth: fc.Arbitrary<readonly string[]>) =>
  fc.tuple(fc.array(otherHeader, { maxLength: 3 }), auth, fc.array(otherHeader, { maxLength: 3 }))
    .map(([before, pairs, after]) => [...before.flat(), ...pairs, ...after.flat()]);

/** Zero, one or several Authorization headers among others. */
const anyHeaders = headerList(fc.array(fc.tuple(authorizationName, value), { maxLength: 3 }).map((pairs) => pairs.flat()));

/** The values of the Authorization headers, read independently of the parser. */
function authorizationValues(raw: readonly string[]): string[] {
  const values: string[] = [];
  raw.forEach((entry, index) => {
    if (index % 2 === 0 && /^authorization$/i.test(entry)) values.push(raw[index + 1] ?? '');
  });
  return values;
}

describe('parseAuthorization properties', () => {
  it('never throws, on any list, even of odd length, with huge or non-ASCII values', () => {
    const raw = fc.oneof(anyHeaders, fc.array(fc.oneof(fc.string({ unit: 'binary' }), authorizationName, value), { maxLength: 7 }));
    fc.assert(
      fc.property(raw, (headers) => {
        const result = parseAuthorization(headers);
        expect(typeof result.ok).toBe('boolean');
      }),
      RUNS,
    );
  });

  it('refuses two or more Authorization headers, whatever they hold (even empty or "Basic Og==")', () => {
    const several = headerList(fc.array(fc.tuple(authorizationName, fc.oneof(value, fc.constant(''))), { minLength: 2, maxLength: 4 }).map((pairs) => pairs.flat()));
    fc.assert(
      fc.property(several, (headers) => {
        expect(parseAuthorization(headers)).toEqual({ ok: false, reason: 'multiple-authorization' });
      }),
      RUNS,
    );
  });

  it('gives back the user and password of a Basic header exactly (colons, NUL, non-ASCII, any scheme case, spaces around)', () => {
    const user = fc.string({ unit: tricky, maxLength: 24 }).filter((text) => !text.includes(':'));
    const password = fc.string({ unit: tricky, maxLength: 48 });
    const basic = fc.tuple(user, password, schemeCase('basic'), ws, fc.constantFrom(' ', '  '), ws).filter(([u, p]) => u !== '' || p !== '');
    fc.assert(
      fc.property(basic, fc.array(otherHeader, { maxLength: 2 }), ([u, p, scheme, before, gap, after], others) => {
        const headers = [...others.flat(), 'Authorization', `${before}${scheme}${gap}${b64(`${u}:${p}`)}${after}`];
        expect(parseAuthorization(headers)).toEqual({ ok: true, credentials: { kind: 'basic', username: u, password: p } });
      }),
      RUNS,
    );
  });

  it('gives back a Bearer token68 exactly', () => {
    const token = fc.string({ unit: fc.constantFrom(...'ABCxyz0189-._~+/'), minLength: 1, maxLength: 60 })
      .chain((body) => fc.constantFrom('', '=', '==').map((pad) => `${body}${pad}`));
    fc.assert(
      fc.property(token, schemeCase('bearer'), ws, (t, scheme, around) => {
        expect(parseAuthorization(['Authorization', `${around}${scheme} ${t}${around}`])).toEqual({ ok: true, credentials: { kind: 'bearer', token: t } });
      }),
      RUNS,
    );
  });

  it('a present header is "no credentials" only when blank or Basic for ":" — anything else is credentials or a refusal', () => {
    fc.assert(
      fc.property(anyHeaders, (headers) => {
        const result = parseAuthorization(headers);
        if (!(result.ok && result.credentials.kind === 'none')) return;
        const values = authorizationValues(headers);
        expect(values.length).toBeLessThanOrEqual(1);
        if (values.length === 0 || values[0]!.trim() === '') return;
        const match = /^basic +(\S+)$/i.exec(values[0]!.trim());
        expect(match, values[0]).not.toBeNull();
        expect(Buffer.from(atob(match![1]!), 'latin1').toString('utf8')).toBe(':');
      }),
      RUNS,
    );
  });

  it('accepted Basic credentials are what the header\'s base64 decodes to, split at the first colon', () => {
    fc.assert(
      fc.property(anyHeaders, (headers) => {
        const result = parseAuthorization(headers);
        if (!result.ok || result.credentials.kind !== 'basic') return;
        const { username, password } = result.credentials;
        const param = authorizationValues(headers)[0]!.trim().replace(/^basic +/i, '');
        expect(Buffer.from(atob(param), 'latin1').toString('utf8')).toBe(`${username}:${password}`);
        expect(username).not.toContain(':');
      }),
      RUNS,
    );
  });

  it('an accepted Bearer token is the header\'s one RFC 7235 token68, verbatim', () => {
    fc.assert(
      fc.property(anyHeaders, (headers) => {
        const result = parseAuthorization(headers);
        if (!result.ok || result.credentials.kind !== 'bearer') return;
        const { token } = result.credentials;
        expect(token).toMatch(/^[A-Za-z0-9\-._~+/]+=*$/);
        const header = authorizationValues(headers)[0]!.trim();
        expect(header.slice(0, 7).toLowerCase()).toBe('bearer ');
        expect(header.slice(7).trim()).toBe(token);
      }),
      RUNS,
    );
  });

  it('headers other than Authorization change nothing, wherever they are, even with "Authorization" as their value', () => {
    fc.assert(
      fc.property(anyHeaders, fc.array(otherHeader, { maxLength: 3 }), fc.nat(), (headers, extra, at) => {
        const index = 2 * (at % (headers.length / 2 + 1));
        const mixed = [...headers.slice(0, index), ...extra.flat(), ...headers.slice(index)];
        expect(parseAuthorization(mixed)).toEqual(parseAuthorization(headers));
      }),
      RUNS,
    );
  });
});
