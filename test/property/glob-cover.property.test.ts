/**
 * Properties of glob inclusion, held to the matcher the gate really runs:
 * whenever `globCovers(outer, inner)` says yes, no name `inner` matches
 * escapes `outer`; and the automata it decides on agree with the matcher
 * (exactly, for the outer forms it models; at least as much, for inner ones).
 * Names come from a small alphabet so that random globs and names meet often.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { automatonAccepts, globCovers } from '../../src/policy/glob-cover.js';
import { matchGlob } from '../../src/policy/glob.js';
import { pattern, repository } from './support/policies.js';
import { runs } from './support/runs.js';

const RUNS = runs(3000);

/** Glob texts over a small alphabet, with and without the forms the automata leave out. */
const smallGlob = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'b', '/', '*', '?'), maxLength: 8 }),
  fc.array(fc.constantFrom('a', 'b', '*', '**', 'a*', '*b', '?', 'a?'), { minLength: 1, maxLength: 4 }).map((s) => s.join('/')),
  fc.string({ unit: fc.constantFrom('a', '/', '*', '{', '}', ',', '[', ']'), maxLength: 8 }),
  pattern,
);
/** Non-empty names (no repository's is empty), mostly from the same alphabet. */
const name = fc.oneof(fc.string({ unit: fc.constantFrom('a', 'b', '/'), minLength: 1, maxLength: 8 }), repository);

describe('globCovers properties', () => {
  it('covers(outer, inner) and inner matches a name ⇒ outer matches it', () => {
    fc.assert(
      fc.property(smallGlob, smallGlob, fc.array(name, { minLength: 1, maxLength: 20 }), (outer, inner, names) => {
        if (!globCovers(outer, inner)) return;
        for (const n of names) if (matchGlob(inner, n)) expect(matchGlob(outer, n), `${outer} ⊇ ${inner}, name ${n}`).toBe(true);
      }),
      RUNS,
    );
  });

  it('the same, for an inner glob made from the outer one by narrowing a wildcard', () => {
    const narrowed = smallGlob.chain((outer) =>
      fc.tuple(fc.constant(outer), fc.constantFrom('a', 'b', 'a*', '*a', '?', 'a/b', '*/*', '**/a').map((part) => outer.replace(/\*\*|\*|\?/, part))),
    );
    fc.assert(
      fc.property(narrowed, fc.array(name, { minLength: 1, maxLength: 20 }), ([outer, inner], names) => {
        if (!globCovers(outer, inner)) return;
        for (const n of names) if (matchGlob(inner, n)) expect(matchGlob(outer, n), `${outer} ⊇ ${inner}, name ${n}`).toBe(true);
      }),
      RUNS,
    );
  });

  it('the automata agree with the matcher: exactly as an outer glob, at least as much as an inner one', () => {
    fc.assert(
      fc.property(smallGlob, name, (glob, n) => {
        const matched = matchGlob(glob, n);
        const exact = automatonAccepts(glob, n, true);
        if (exact !== null) expect(exact, `${glob} ~ ${n}`).toBe(matched);
        const loose = automatonAccepts(glob, n, false);
        if (loose !== null && matched) expect(loose, `${glob} ~ ${n}`).toBe(true);
      }),
      RUNS,
    );
  });
});
