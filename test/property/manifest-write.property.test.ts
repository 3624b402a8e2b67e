/**
 * Properties of immutableTags and of the manifest write and delete verdicts
 * (README, "How decisions are made"): a tag an immutable rule names is never moved, by
 * anyone, admins included; each tag of a PUT needs exactly what the table in
 * manifest-write.ts says; more rules never allow more; deleting what an
 * immutable tag holds takes an admin holding delete.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideRepository } from '../../src/policy/access.js';
import { findImmutableRule } from '../../src/policy/immutable.js';
import { decideManifestDelete, decideManifestWrite, type TagHolding } from '../../src/policy/manifest-write.js';
import type { AccessControl, ImmutableTagRule, Principal } from '../../src/policy/types.js';
import { accessControl, immutableRule, principal, repository, tag } from './support/policies.js';
import { adminMay, frozenBy } from './support/policy-model.js';
import { runs } from './support/runs.js';

const RUNS = runs(1000);

const BODY = `sha256:${'b'.repeat(64)}`;
const OTHER = `sha256:${'0'.repeat(64)}`;
const holding: fc.Arbitrary<TagHolding> = fc.constantFrom<TagHolding>({ kind: 'absent' }, { kind: 'present', digest: BODY }, { kind: 'present', digest: OTHER });
const tagWrites = fc.uniqueArray(fc.record({ tag, holding }), { maxLength: 3, selector: (entry) => entry.tag });
const rules = fc.array(immutableRule, { maxLength: 3 });

/** An admin whose adminPolicy holds every action: the strongest identity a config can name. */
const withRoot = (ac: AccessControl): [AccessControl, Principal] => [
  { ...ac, adminPolicy: { users: ['root'], actions: ['read', 'create', 'update', 'delete'] } },
  { name: 'root', groups: [] },
];

const allows = (ac: AccessControl, who: Principal, repo: string, action: 'create' | 'update' | 'delete') =>
  decideRepository(ac, who, repo, action).allow;

describe('immutable tags and manifest writes', () => {
  it('findImmutableRule finds the first rule that names the tag (repository and tag match, no except; signature tags only by a sha256- glob)', () => {
    fc.assert(
      fc.property(rules, repository, tag, (list, repo, name) => {
        expect(findImmutableRule(list, repo, name)?.index ?? null).toBe(frozenBy(list, repo, name));
      }),
      runs(2000),
    );
  });

  it('a tag an immutable rule names, holding another manifest, is never moved — not even by an admin holding every action', () => {
    fc.assert(
      fc.property(accessControl, fc.boolean(), principal, rules, repository, tagWrites, (base, root, someone, list, repo, writes) => {
        const [ac, who] = root ? withRoot(base) : [base, someone];
        const verdict = decideManifestWrite({ ac, immutableTags: list, principal: who, repository: repo, digest: BODY, tags: writes });
        const frozen = writes.find(({ tag: name, holding: held }) => held.kind === 'present' && held.digest !== BODY && frozenBy(list, repo, name) !== null);
        if (frozen === undefined) return;
        expect(verdict.allow).toBe(false);
        // alone, it is refused for being immutable, whatever the identity may otherwise do
        if (writes.length === 1) expect(verdict).toMatchObject({ decision: { reason: 'tag-immutable' }, tag: frozen.tag });
      }),
      runs(2000),
    );
  });

  it('a write is allowed exactly when each tag gets what it needs: create when new, create or update when identical, update when moved and not frozen', () => {
    fc.assert(
      fc.property(accessControl, principal, rules, repository, tagWrites, (ac, who, list, repo, writes) => {
        const verdict = decideManifestWrite({ ac, immutableTags: list, principal: who, repository: repo, digest: BODY, tags: writes });
        const may = (action: 'create' | 'update') => allows(ac, who, repo, action);
        const expected =
          writes.length === 0
            ? may('create')
            : writes.every(({ tag: name, holding: held }) => {
                if (held.kind === 'absent') return may('create');
                if (held.digest === BODY) return may('create') || may('update');
                return frozenBy(list, repo, name) === null && may('update');
              });
        expect(verdict.allow).toBe(expected);
      }),
      runs(2000),
    );
  });

  it('one more immutable rule never allows a write or a delete that was refused', () => {
    fc.assert(
      fc.property(accessControl, principal, rules, immutableRule, repository, tagWrites, (ac, who, list, extra, repo, writes) => {
        const write = (immutableTags: readonly ImmutableTagRule[]) =>
          decideManifestWrite({ ac, immutableTags, principal: who, repository: repo, digest: BODY, tags: writes }).allow;
        if (!write(list)) expect(write([...list, extra])).toBe(false);
        if (write([...list, extra])) expect(write(list)).toBe(true);
      }),
      RUNS,
    );
  });

  it('deleting what an immutable tag holds needs delete on the repository and an admin holding delete; otherwise delete alone', () => {
    const frozenTags = fc.subarray(['v1', 'stable']);
    fc.assert(
      fc.property(accessControl, fc.boolean(), principal, rules, repository, frozenTags, (base, root, someone, list, repo, frozen) => {
        const [ac, who] = root ? withRoot(base) : [base, someone];
        const verdict = decideManifestDelete({ ac, immutableTags: list, principal: who, repository: repo, frozenTags: frozen });
        const expected = allows(ac, who, repo, 'delete') && (frozen.length === 0 || adminMay(ac, who, 'delete'));
        expect(verdict.allow).toBe(expected);
      }),
      RUNS,
    );
  });
});
