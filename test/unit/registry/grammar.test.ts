import { describe, expect, it } from 'vitest';
import {
  checkDigest,
  checkName,
  checkSessionId,
  checkTag,
  isDigest,
  isName,
  isSessionId,
  isTag,
  quote,
} from '../../../src/registry/grammar.js';
import type { Invalid } from '../../../src/registry/types.js';

const HEX64 = 'a'.repeat(64);
const HEX128 = 'b'.repeat(128);

describe('isName', () => {
  it.each([
    ['app', true],
    ['a', true],
    ['blumeops/app', true],
    ['a/b/c/d', true],
    ['a.b', true],
    ['a_b', true],
    ['a__b', true],
    ['a-b', true],
    ['a---b', true],
    ['a/blobs/manifests', true],
    ['0/9', true],
    ['x'.repeat(255), true],
    ['x'.repeat(256), false],
    ['', false],
    ['App', false],
    ['a..b', false],
    ['a___b', false],
    ['a.-b', false],
    ['-a', false],
    ['a-', false],
    ['a/', false],
    ['/a', false],
    ['a//b', false],
    ['_catalog', false],
    ['a:b', false],
    ['a b', false],
  ])('%j → %s', (name, expected) => {
    expect(isName(name)).toBe(expected);
  });
});

describe('isTag', () => {
  it.each([
    ['latest', true],
    ['LATEST', true],
    ['v1.2.3-rc_1', true],
    ['_x', true],
    ['0', true],
    ['a'.repeat(128), true],
    ['a'.repeat(129), false],
    ['', false],
    ['.x', false],
    ['-x', false],
    ['a/b', false],
    ['a:b', false],
    ['a+b', false],
  ])('%j → %s', (tag, expected) => {
    expect(isTag(tag)).toBe(expected);
  });
});

describe('isDigest', () => {
  it.each([
    [`sha256:${HEX64}`, true],
    [`sha512:${HEX128}`, true],
    [`sha256:${'A'.repeat(64)}`, false],
    [`sha256:${HEX64.slice(1)}`, false],
    [`sha256:${HEX64}0`, false],
    [`sha512:${HEX64}`, false],
    [`SHA256:${HEX64}`, false],
    [`md5:${'a'.repeat(32)}`, false],
    [`sha256:${'g'.repeat(64)}`, false],
    [`sha256:${HEX64}\n`, false],
    [HEX64, false],
    ['', false],
  ])('%j → %s', (digest, expected) => {
    expect(isDigest(digest)).toBe(expected);
  });
});

describe('isSessionId', () => {
  it.each([
    ['0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0', true],
    ['abc_DEF=', true],
    ['x'.repeat(256), true],
    ['x'.repeat(257), false],
    ['', false],
    ['a.b', false],
    ['a:b', false],
  ])('%j → %s', (id, expected) => {
    expect(isSessionId(id)).toBe(expected);
  });
});

const CHECKS = {
  checkName,
  checkTag,
  checkDigest,
  checkSessionId: (text: string) => checkSessionId(text),
} as const;

describe('check functions name the problem', () => {
  it.each<[keyof typeof CHECKS, string, string, Invalid | null]>([
    ['checkName', 'app', '', null],
    [
      'checkName', 'Foo', '',
      { code: 'NAME_INVALID', reason: 'name-grammar', message: 'repository name "Foo" is invalid: names are lowercase' },
    ],
    [
      'checkName', 'a..b', '',
      {
        code: 'NAME_INVALID',
        reason: 'name-grammar',
        message:
          'repository name "a..b" is invalid: each component is lowercase letters and digits, separated by ".", "_", "__" or "-"',
      },
    ],
    [
      'checkName', 'x'.repeat(256), '',
      {
        code: 'NAME_INVALID',
        reason: 'name-too-long',
        message: `repository name "${'x'.repeat(80)}..." is invalid: names are at most 255 characters`,
      },
    ],
    [
      'checkName', 'A', 'query parameter "from": ',
      {
        code: 'NAME_INVALID',
        reason: 'name-grammar',
        message: 'query parameter "from": repository name "A" is invalid: names are lowercase',
      },
    ],
    ['checkTag', 'LATEST', '', null],
    [
      'checkTag', '.x', '',
      { code: 'TAG_INVALID', reason: 'tag-grammar', message: 'tag ".x" is invalid: a tag starts with a letter, a digit or "_"' },
    ],
    [
      'checkTag', 'a+b', '',
      {
        code: 'TAG_INVALID',
        reason: 'tag-grammar',
        message: 'tag "a+b" is invalid: a tag holds only letters, digits, "_", "." and "-"',
      },
    ],
    [
      'checkTag', 'a'.repeat(129), '',
      {
        code: 'TAG_INVALID',
        reason: 'tag-grammar',
        message: `tag "${'a'.repeat(80)}..." is invalid: tags are at most 128 characters`,
      },
    ],
    ['checkDigest', `sha512:${HEX128}`, '', null],
    [
      'checkDigest', 'abc', '',
      { code: 'DIGEST_INVALID', reason: 'digest-grammar', message: 'digest "abc" is invalid: a digest is "algorithm:hex"' },
    ],
    [
      'checkDigest', 'md5:abc', '',
      {
        code: 'DIGEST_INVALID',
        reason: 'digest-algorithm',
        message: 'digest "md5:abc" is invalid: algorithm "md5" is not supported (sha256, sha512)',
      },
    ],
    [
      'checkDigest', 'constructor:abc', '',
      {
        code: 'DIGEST_INVALID',
        reason: 'digest-algorithm',
        message: 'digest "constructor:abc" is invalid: algorithm "constructor" is not supported (sha256, sha512)',
      },
    ],
    [
      'checkDigest', 'sha256:ABC', '',
      {
        code: 'DIGEST_INVALID',
        reason: 'digest-grammar',
        message: 'digest "sha256:ABC" is invalid: sha256 needs 64 lowercase hex characters',
      },
    ],
    [
      'checkDigest', 'sha512:abc', 'query parameter "mount": ',
      {
        code: 'DIGEST_INVALID',
        reason: 'digest-grammar',
        message: 'query parameter "mount": digest "sha512:abc" is invalid: sha512 needs 128 lowercase hex characters',
      },
    ],
    ['checkSessionId', 'abc', '', null],
    [
      'checkSessionId', 'a.b', '',
      {
        code: 'UNSUPPORTED',
        reason: 'session-grammar',
        message: 'upload session id "a.b" is invalid: a session id is 1 to 256 letters, digits, "_", "=" or "-"',
      },
    ],
  ])('%s(%j, %j)', (check, text, where, expected) => {
    expect(CHECKS[check](text, where)).toEqual(expected);
  });
});

describe('quote', () => {
  it.each([
    ['app', '"app"'],
    ['a"b', '"a\\"b"'],
    ['a\nb', '"a\\nb"'],
    ['x'.repeat(80), `"${'x'.repeat(80)}"`],
    ['x'.repeat(81), `"${'x'.repeat(80)}..."`],
  ])('%j → %s', (text, expected) => {
    expect(quote(text)).toBe(expected);
  });
});
