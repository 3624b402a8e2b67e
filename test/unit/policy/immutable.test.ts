import { describe, expect, it } from 'vitest';
import { findImmutableRule } from '../../../src/policy/immutable.js';
import type { ImmutableTagRule } from '../../../src/policy/types.js';

const RULES: readonly ImmutableTagRule[] = [
  { repositories: ['blumeops/**'], tags: ['v*'], except: ['v*-rc*', 'v0.*'] },
  { repositories: ['library/*', 'base'], tags: ['{stable,lts}', '[0-9]*'] },
  { repositories: ['**'], tags: ['release-*'], except: [] },
  { repositories: ['team/[', 'team/*'], tags: ['[', 'frozen'], except: ['['] },
];

describe('findImmutableRule', () => {
  it.each([
    ['blumeops/app', 'v1.2.3', 0],
    ['blumeops', 'v1', 0],
    ['blumeops/deep/app', 'v2', 0],
    ['blumeops/app', 'v1.0-rc1', null],
    ['blumeops/app', 'v0.9', null],
    ['blumeops/app', 'latest', null],
    // tags are case-sensitive
    ['blumeops/app', 'V1', null],
    ['library/alpine', 'stable', 1],
    ['library/alpine', 'Stable', null],
    ['library/alpine', '3.19', 1],
    ['library/alpine/extra', '3.19', null],
    ['base', 'lts', 1],
    // the first matching rule is reported
    ['blumeops/app', 'release-1', 2],
    ['blumeops/app', 'v1-release', 0],
    ['anything/else', 'release-2024', 2],
    // a broken glob matches nothing, in repositories, tags and except alike
    ['team/x', 'frozen', 3],
    ['team/x', '[', null],
  ])('%s:%s → rule %s', (repository, tag, index) => {
    const found = findImmutableRule(RULES, repository, tag);
    expect(found).toEqual(index === null ? null : { index, rule: RULES[index] });
  });

  it('finds nothing without rules', () => {
    expect(findImmutableRule([], 'blumeops/app', 'v1')).toBeNull();
  });
});
