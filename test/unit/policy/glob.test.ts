import { describe, expect, it } from 'vitest';
import { compileGlob, globCoversEveryName, globProblem, matchGlob } from '../../../src/policy/glob.js';

// Every expectation in the match tables below is what
// github.com/bmatcuk/doublestar/v4 (v4.9.1) `Match(pattern, name)` returns,
// obtained by running it; many rows are doublestar's own test cases.

type Row = readonly [pattern: string, name: string, matches: boolean];

const SEGMENTS: Row[] = [
  ['abc', 'abc', true],
  ['abc', 'abd', false],
  ['abc', 'ABC', false],
  ['*', 'abc', true],
  ['*', 'a/b', false],
  ['*c', 'abc', true],
  ['a*', 'a', true],
  ['a*', 'ab/c', false],
  ['a*/b', 'abc/b', true],
  ['a*/b', 'a/c/b', false],
  ['a?c', 'abc', true],
  ['a?c', 'a/c', false],
  ['a?c', 'ac', false],
  ['a*b*c', 'axbxc', true],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false],
  ['a?b', 'a☺b', true],
  ['', '', true],
  ['', 'a', false],
  ['*', '', true],
];

const CLASSES: Row[] = [
  ['ab[c]', 'abc', true],
  ['ab[b-d]', 'abc', true],
  ['ab[e-g]', 'abc', false],
  ['ab[^c]', 'abc', false],
  ['ab[!c]', 'abd', true],
  ['ab[^b-d]', 'abe', true],
  ['[-x]', '-', true],
  ['[x-]', '-', true],
  ['[a-b-d]', '-', true],
  ['[a-b-d]', 'c', false],
  ['[\\]a]', ']', true],
  ['[\\-]', '-', true],
  ['[z-a]', 'm', false],
  ['[!z-a]', 'm', true],
  ['[a-ζ]*', 'α', true],
  // doublestar's README says a class never matches `/`; its code lets it
  ['a[^x]b', 'a/b', true],
  ['a[/]b', 'a/b', true],
  ['a[!/]b', 'a/b', false],
];

const BRACES_AND_ESCAPES: Row[] = [
  ['ab{c,d}', 'abc', true],
  ['ab{c,d}', 'abe', false],
  ['ab{c,d,*}', 'abcde', true],
  ['a{,bc}', 'a', true],
  ['a{,bc}', 'abc', true],
  ['a/{b/c,c/b}', 'a/c/b', true],
  ['{a/{b,c},abc}', 'a/c', true],
  ['{a/{b,c},abc}', 'a/b/c', false],
  ['team-{a,b}/**', 'team-b/x/y', true],
  ['{}a', 'a', true],
  ['{latest,stable}', 'stable', true],
  ['a\\*b', 'a*b', true],
  ['a\\*b', 'axb', false],
  ['e/\\[x\\]/*', 'e/[x]/y', true],
  ['\\{a\\}', '{a}', true],
  ['a\\/b', 'a/b', true],
  ['a\\\\b', 'a\\b', true],
];

const DOUBLESTAR: Row[] = [
  ['**', 'a', true],
  ['**', 'a/b/c', true],
  ['**', '', true],
  ['a/**', 'a', true],
  ['a/**', 'a/', true],
  ['a/**', 'a/b/c', true],
  ['a/**', 'ab', false],
  ['a/**/', 'a', true],
  ['a/**/', 'a/b', false],
  ['**/c', 'c', true],
  ['**/c', 'a/b/c', true],
  ['**/c', 'abc', false],
  ['**/c', 'a/abc', false],
  ['a/**/b', 'a/b', true],
  ['a/**/b', 'a/x/y/b', true],
  ['a/**/b', 'a/xb', false],
  ['**/*', 'a/b/c', true],
  ['**/**', 'a', true],
  ['*/**', 'a', true],
  // `**` that is not a whole segment is `*`
  ['abc**', 'abc/b', false],
  ['abc**', 'abcd', true],
  ['a/**b', 'a/xb', true],
  ['a/**b', 'a/x/b', false],
];

const ZOT_KEYS_AND_TAGS: Row[] = [
  ['blumeops/**', 'blumeops', true],
  ['blumeops/**', 'blumeops/app', true],
  ['blumeops/**', 'blumeopsx/app', false],
  ['blumeops/*', 'blumeops/a/b', false],
  ['*/base', 'library/base', true],
  ['**/cache', 'team/app/cache', true],
  ['latest', 'LATEST', false],
  ['v*', 'V1', false],
  ['v*', 'v1.2.3', true],
  ['v*', '1.0', false],
  ['v[0-9]*', 'v1', true],
  ['v[0-9]*', 'vx', false],
  ['*-rc*', 'v1-rc1', true],
];

// doublestar only widens the latest `*` and the latest `**/`, and accepts a
// pattern left over at the end of the name only in a few literal forms. A
// RegExp would say the opposite of zot on each row here.
const SEARCH_ORDER: Row[] = [
  ['a*/**', 'a', false],
  ['a*/**', 'ab', true],
  ['a*/**', 'a/b', true],
  ['****/', 'b', false],
  ['**/*/**/', 'aa/b', false],
  ['*[^b][!a]{*,a/b}', 'cc/b', false],
  ['*[^x]*', 'a/b', false],
  ['a**/', 'a', true],
  ['a*/', 'a', false],
  // reaching a `**/` forgets the `*` before it
  ['**[^b][-a]/**/', '-a/a', false],
  ['**{**,a}/', 'a', false],
  // a spliced-in alternative starts as if at a segment start
  ['a{**,c}', 'ax/y', true],
  ['a{,x}**/b', 'a/y/b', true],
];

describe('matchGlob, against doublestar v4 Match', () => {
  it.each([
    ...SEGMENTS.map((row) => ['segments', ...row] as const),
    ...CLASSES.map((row) => ['classes', ...row] as const),
    ...BRACES_AND_ESCAPES.map((row) => ['braces and escapes', ...row] as const),
    ...DOUBLESTAR.map((row) => ['doublestar', ...row] as const),
    ...ZOT_KEYS_AND_TAGS.map((row) => ['zot keys and tags', ...row] as const),
    ...SEARCH_ORDER.map((row) => ['search order', ...row] as const),
  ])('%s: %j against %j is %s', (_group, pattern, name, matches) => {
    expect(matchGlob(pattern, name)).toBe(matches);
    expect(compileGlob(pattern)(name)).toBe(matches);
  });
});

describe('globProblem', () => {
  it.each([
    ['', null],
    ['**', null],
    ['blumeops/{app,lib}/**', null],
    ['[!a-z]*', null],
    ['[\\{]', null],
    // doublestar's ValidatePattern rejects these
    ['[', 'unclosed "["'],
    ['[^', 'unclosed "["'],
    ['a[b', 'unclosed "["'],
    ['{a,[}', 'unclosed "["'],
    ['[]a]', 'empty character class "[]"'],
    ['[!]', 'empty character class "[]"'],
    ['\\', '"\\" at the end escapes nothing'],
    ['a/\\', '"\\" at the end escapes nothing'],
    ['{a', 'unclosed "{"'],
    ['{a,{b}', 'unclosed "{"'],
    ['a}', '"}" without a matching "{"'],
    // accepted by ValidatePattern, refused here: doublestar's brace scanning
    // cuts through the class while its validator reads the class whole
    ['{[a,b],c}', '"," inside a character class must be escaped'],
    ['[{]', '"{" inside a character class must be escaped'],
    ['[a[]', '"[" inside a character class must be escaped'],
    ['[!a}]', '"}" inside a character class must be escaped'],
    ['{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}', 'more than 256 alternatives'],
  ])('%j → %j', (pattern, problem) => {
    expect(globProblem(pattern)).toBe(problem);
  });

  // doublestar's Match can say yes before it reaches the broken part (zot
  // refuses such keys at startup anyway); a rejected pattern never matches
  it.each([
    ['{a,[}', 'a'],
    ['a}', 'a}'],
    ['[{]', '{'],
  ])('rejected %j never matches %j', (pattern, name) => {
    expect(matchGlob(pattern, name)).toBe(false);
  });
});

describe('compileGlob', () => {
  it('returns the cached matcher for a pattern compiled before', () => {
    expect(compileGlob('cache/**/probe')).toBe(compileGlob('cache/**/probe'));
  });

  it('stays fast on patterns that make a backtracking RegExp explode', () => {
    const started = performance.now();
    expect(matchGlob('*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(250))).toBe(false);
    expect(performance.now() - started).toBeLessThan(250);
  });
});

describe('globCoversEveryName', () => {
  it.each([
    ['**', true],
    ['**/**', true],
    ['**/*', true],
    ['**/**/*', true],
    ['{**,x}', true],
    ['{x,**/*}', true],
    ['*', false],
    // matches every name in fact, but is not a form recognised as covering
    ['*/**', false],
    ['a/**', false],
    ['**/a', false],
    ['', false],
    ['\\**', false],
  ])('%j → %s', (pattern, covers) => {
    expect(globCoversEveryName(pattern)).toBe(covers);
  });
});
