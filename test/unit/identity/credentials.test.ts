import { describe, expect, it } from 'vitest';
import { parseAuthorization } from '../../../src/identity/credentials.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('parseAuthorization', () => {
  it.each([
    ['no header', [], { ok: true, credentials: { kind: 'none' } }],
    ['empty header', ['Authorization', ''], { ok: true, credentials: { kind: 'none' } }],
    ['Basic Og== is "no credentials" (zot)', ['Authorization', 'Basic Og=='], { ok: true, credentials: { kind: 'none' } }],
    ['basic, any case of scheme', ['authorization', `bAsIc ${b64('ci:zak_x')}`], { ok: true, credentials: { kind: 'basic', username: 'ci', password: 'zak_x' } }],
    ['password keeps its colons', ['Authorization', `Basic ${b64('ci:a:b')}`], { ok: true, credentials: { kind: 'basic', username: 'ci', password: 'a:b' } }],
    ['empty user, some password', ['Authorization', `Basic ${b64(':zak_x')}`], { ok: true, credentials: { kind: 'basic', username: '', password: 'zak_x' } }],
    ['bearer', ['Authorization', 'Bearer eyJ.abc.def'], { ok: true, credentials: { kind: 'bearer', token: 'eyJ.abc.def' } }],
    ['two Authorization headers', ['Authorization', 'Basic Og==', 'authorization', `Basic ${b64('a:b')}`], { ok: false, reason: 'multiple-authorization' }],
    ['basic without a colon', ['Authorization', `Basic ${b64('ci')}`], { ok: false, reason: 'malformed-authorization' }],
    ['basic that is not base64', ['Authorization', 'Basic !!!'], { ok: false, reason: 'malformed-authorization' }],
    ['basic with bad padding', ['Authorization', 'Basic Og'], { ok: false, reason: 'malformed-authorization' }],
    ['basic without a parameter', ['Authorization', 'Basic'], { ok: false, reason: 'malformed-authorization' }],
    ['bearer with spaces', ['Authorization', 'Bearer a b'], { ok: false, reason: 'malformed-authorization' }],
    ['another scheme', ['Authorization', 'Digest username="x"'], { ok: false, reason: 'unsupported-scheme' }],
  ])('%s', (_name, raw, expected) => {
    expect(parseAuthorization(raw)).toEqual(expected);
  });

  it('ignores other headers', () => {
    expect(parseAuthorization(['Host', 'x', 'Proxy-Authorization', 'Basic Og=='])).toEqual({ ok: true, credentials: { kind: 'none' } });
  });
});
