/**
 * globCovers(outer, inner): is every repository name `inner` matches also
 * matched by `outer`? A table of exact answers, then a corpus check that no
 * "covers" lets a name escape.
 */
import { describe, expect, it } from 'vitest';
import { globCovers } from '../../../src/policy/glob-cover.js';
import { matchGlob } from '../../../src/policy/glob.js';

describe('globCovers(outer, inner)', () => {
  const rows: Array<readonly [outer: string, inner: string, covers: boolean]> = [
    // identical text
    ['team/**', 'team/**', true],
    ['team/{a,b}', 'team/{a,b}', true],
    // outer matches every name
    ['**', 'anything/**', true],
    ['**/*', '{a,b}/c', true],
    ['**', '**', true],
    // a literal inner that outer matches
    ['team/**', 'team', true],
    ['team/**', 'team/app', true],
    ['team/*', 'team/app', true],
    ['team/*', 'team/app/x', false],
    ['team/app', 'team/app', true],
    ['team/app', 'team/app2', false],
    ['{a,b}/x', 'b/x', true],
    // glob inclusion, not string equality
    ['team/**', 'team/*', true],
    ['team/**', 'team/a/**', true],
    ['team/**', 'team/{a,b}', true],
    ['team/**', 'team/**/x', true],
    ['team/sub/**', 'team/sub/*', true],
    ['team/*', 'team/a*', true],
    ['team/*', 'team/a?', true],
    ['team/*', 'team/*-ci', true],
    ['team/*/x', 'team/a*/x', true],
    ['**/tmp', 'a/*/tmp', true],
    ['team/**', 'team/*/**', true],
    ['*', 'a*', true],
    ['a*', 'ab*', true],
    ['a*b', 'a*xb', true],
    // not covered: a name escapes
    ['team/*', 'team/**', false],
    ['team/*', 'team', false],
    ['team/**', 'team*', false],
    ['team/**', 'team*/x', false],
    ['team/**', '{team,other}/x', false],
    ['team/**', 'teamx/*', false],
    ['team/**', '**', false],
    ['team/**', 'other/**', false],
    ['*', '*/*', false],
    ['a*b', 'a*', false],
    ['team/*/**', 'team/**', false],
    // `*{}*` expands to `**` but is two `*` that never cross a `/`
    ['*{}*', 'a/b', false],
    ['*{}*', 'a/*b', false],
    ['{**,a}', 'a/*b', true],
    // doublestar: `a*/**` does not match `a`, which `a/**` does
    ['a*/**', 'a/**', false],
    // unsure, so false: forms the inclusion test does not model
    ['{team,other}/**', 'team/*', false],
    ['te[a]m/**', 'team/*', false],
    ['team/*', 'team/[ab]', false],
    ['/**', '/x/*', false],
    ['*//**', '*//*', false],
    // patterns with a problem cover nothing and are covered by nothing
    ['team/[', 'team/[', false],
    ['**', 'team/[', false],
    ['team/**', 'team/{a', false],
  ];
  it.each(rows)('%j covers %j: %s', (outer, inner, covers) => {
    expect(globCovers(outer, inner)).toBe(covers);
  });

  // Soundness over a corpus: whenever a glob is said to be covered, no name it matches escapes.
  const patterns = ['**', 'team/**', 'team/*', 'team', 'team/app', 'team/a*', 'team/{a,b}', 'team/**/x', 'team/sub/**', 'team*', 'other/**', '{team,other}/x', 'team/?pp', 'team/[ab]*', '*/app', '**/x', 'team/*/**'];
  const names = ['team', 'team/', 'team/app', 'team/a', 'team/b', 'team/app/x', 'team/x', 'team/sub', 'team/sub/y', 'teamx', 'teamx/y', 'other', 'other/x', 'a', 'x/team/app', 'x', 'a/x', 'other/app'];
  const pairs = patterns.flatMap((outer) => patterns.map((inner) => [outer, inner] as const)).filter(([outer, inner]) => globCovers(outer, inner));
  it('the corpus exercises the rule (covered pairs found)', () => {
    expect(pairs.length).toBe(57);
  });
  it.each(pairs)('%j ⊇ %j on every corpus name', (outer, inner) => {
    expect(names.filter((name) => matchGlob(inner, name) && !matchGlob(outer, name))).toEqual([]);
  });
});
