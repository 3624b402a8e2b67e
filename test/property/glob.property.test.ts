/**
 * Properties of the doublestar matcher that accessControl keys, API key
 * scopes and immutableTags rules go through: it never throws on any pattern,
 * a rejected pattern matches nothing, it agrees with a plain reading of the
 * globs the policy properties generate (so their simple model may read globs
 * as regular expressions), and "covers every name" is never claimed wrongly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globCoversEveryName, globProblem, matchGlob } from '../../src/policy/glob.js';
import { INVALID_PATTERNS, simpleGlob } from './support/policy-model.js';
import { pattern, repository } from './support/policies.js';
import { runs } from './support/runs.js';

const RUNS = runs(2000);

/** Any glob text: the syntax characters, path pieces and anything. */
const anyGlob = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'*?[]{},!^-\\/ab.'), maxLength: 14 }),
  fc.string({ unit: 'binary', maxLength: 14 }),
);
const anyName = fc.oneof(repository, fc.string({ unit: fc.constantFrom(...'ab/.*?[]{}\\-'), maxLength: 10 }), fc.string({ unit: 'binary', maxLength: 10 }));

describe('glob properties', () => {
  it('never throws; a pattern with a problem matches nothing and does not cover every name', () => {
    fc.assert(
      fc.property(anyGlob, anyName, (glob, name) => {
        const problem = globProblem(glob);
        const matched = matchGlob(glob, name);
        const covers = globCoversEveryName(glob);
        if (problem !== null) expect([matched, covers]).toEqual([false, false]);
      }),
      RUNS,
    );
  });

  it('the patterns the generators know to be invalid are invalid', () => {
    for (const invalid of INVALID_PATTERNS) expect(globProblem(invalid), invalid).not.toBeNull();
  });

  it('agrees with the plain regular-expression reading on the policy properties\' pattern grammar', () => {
    fc.assert(
      fc.property(pattern, repository, (glob, name) => {
        expect(globProblem(glob)).toBeNull();
        expect(matchGlob(glob, name), `${glob} ~ ${name}`).toBe(simpleGlob(glob).test(name));
      }),
      RUNS,
    );
  });

  it('a pattern said to cover every repository name matches every repository name', () => {
    const covering = fc.oneof(pattern, anyGlob, fc.constantFrom('**', '**/*', '**/**', '{**,a}', '**/', '*/**', '**/*/**', '{a,**}/**'));
    // the OCI name grammar: what a repository name can be
    const ociName = fc.oneof(repository, fc.stringMatching(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*){0,4}$/));
    fc.assert(
      fc.property(covering, ociName, (glob, name) => {
        if (globCoversEveryName(glob)) expect(matchGlob(glob, name), `${glob} ~ ${name}`).toBe(true);
      }),
      RUNS,
    );
  });
});
