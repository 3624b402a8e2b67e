/**
 * Properties of the accessControl decisions (issue 8): a decision never
 * allows what a simple reading of the config (support/policy-model.ts)
 * denies, and agrees with it wherever zot's own answer is determined (no two
 * longest keys of equal length); decisions do not depend on the order of the
 * keys; more grants never mean less access; anonymous gets only what an
 * anonymousPolicy gives; a scoped key is its owner inside its scopes and
 * anonymous outside; read-all, admin and metrics answers are sound.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideAdmin, decideMetrics, decideReadAll, decideRepository, isAdmin, readableFilter } from '../../src/policy/access.js';
import { authorize } from '../../src/policy/authorize.js';
import type { AccessControl, Action, Principal } from '../../src/policy/types.js';
import { accessControl, action, anonymous, configAndRepository, GROUPS, named, principal, repository, widened } from './support/policies.js';
import { adminMay, candidateKeys, inScopes, isAdminModel, possibleAnswers } from './support/policy-model.js';
import { runs } from './support/runs.js';

const RUNS = runs(1000);

const allows = (ac: AccessControl, who: Principal, repo: string, act: Action) => decideRepository(ac, who, repo, act).allow;

describe('decideRepository properties', () => {
  it('never allows what the simple reading denies; agrees with it where zot\'s answer is determined', () => {
    fc.assert(
      fc.property(configAndRepository, principal, action, ([ac, repo], who, act) => {
        const real = allows(ac, who, repo, act);
        const answers = possibleAnswers(ac, who, repo, act);
        if (real) expect(answers).toContain(true);
        if (answers.every(Boolean)) expect(real).toBe(true);
        if (candidateKeys(ac, repo).length === 1) expect(real).toBe(answers[0]);
      }),
      runs(2000),
    );
  });

  it('does not depend on the order of the repositories keys (ties are broken by the keys, not by the file)', () => {
    fc.assert(
      fc.property(configAndRepository, principal, action, fc.nat(), ([ac, repo], who, act, seed) => {
        const entries = Object.entries(ac.repositories);
        const rotated = [...entries.slice(seed % (entries.length + 1)), ...entries.slice(0, seed % (entries.length + 1))].reverse();
        const reordered = { ...ac, repositories: Object.fromEntries(rotated) };
        expect(decideRepository(reordered, who, repo, act)).toEqual(decideRepository(ac, who, repo, act));
      }),
      RUNS,
    );
  });

  it('more groups never mean less access', () => {
    fc.assert(
      fc.property(accessControl, named, fc.constantFrom(...GROUPS), repository, action, (ac, who, group, repo, act) => {
        const more = { ...who, groups: [...who.groups, group] };
        if (allows(ac, who, repo, act)) expect(allows(ac, more, repo, act)).toBe(true);
      }),
      RUNS,
    );
  });

  it('more grants in the config never mean less access, for anyone, anywhere', () => {
    fc.assert(
      fc.property(
        accessControl.chain((ac) => fc.tuple(fc.constant(ac), widened(ac))),
        principal,
        repository,
        action,
        ([ac, [wider, widest]], who, repo, act) => {
          if (!allows(ac, who, repo, act)) return;
          expect(allows(wider, who, repo, act)).toBe(true);
          expect(allows(widest, who, repo, act)).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it('anonymous gets only what the deciding key\'s anonymousPolicy lists; a named user never gets it from there', () => {
    fc.assert(
      fc.property(accessControl, principal, repository, action, (ac, who, repo, act) => {
        const decision = decideRepository(ac, who, repo, act);
        if (who.name === null && decision.allow) {
          expect(decision.reason).toBe('anonymous-policy');
          expect(ac.repositories[decision.pattern!]?.anonymousPolicy).toContain(act);
        }
        if (who.name !== null && (who.scopes ?? []).length === 0) expect(decision.reason).not.toBe('anonymous-policy');
      }),
      RUNS,
    );
  });

  it('a scoped key is worth its owner inside its scopes and anonymous outside them', () => {
    const scoped = named.filter((who) => (who.scopes ?? []).length > 0);
    fc.assert(
      fc.property(accessControl, scoped, repository, action, (ac, who, repo, act) => {
        const as = inScopes(who, repo) ? { name: who.name, groups: who.groups } : anonymous;
        expect(allows(ac, who, repo, act)).toBe(allows(ac, as, repo, act));
      }),
      RUNS,
    );
  });
});

describe('read-all, catalog, admin and metrics properties', () => {
  // A scoped key is judged as anonymous for read-all unless a scope covers every name
  // (access.ts), so inside its scopes it may be denied a read (named users do not inherit
  // anonymousPolicy) that read-all implied: what it learns is still only what anonymous can.
  const readable = (ac: AccessControl, who: Principal, repo: string) =>
    allows(ac, who, repo, 'read') || ((who.scopes ?? []).length > 0 && allows(ac, anonymous, repo, 'read'));

  it('read-all is granted only to whom every repository is readable (for a scoped key: by it or by anonymous)', () => {
    fc.assert(
      fc.property(accessControl, principal, fc.array(repository, { minLength: 1, maxLength: 8 }), (ac, who, repos) => {
        if (!decideReadAll(ac, who).allow) return;
        for (const repo of repos) expect(readable(ac, who, repo), repo).toBe(true);
      }),
      runs(2000),
    );
  });

  it('the catalog filter lists what the principal may read, and nothing else (for a scoped key, also what anonymous may)', () => {
    fc.assert(
      fc.property(accessControl, principal, repository, (ac, who, repo) => {
        const listed = readableFilter(ac, who)(repo);
        if (allows(ac, who, repo, 'read')) expect(listed).toBe(true);
        if (listed) expect(readable(ac, who, repo)).toBe(true);
      }),
      RUNS,
    );
  });

  it('admin answers are zot\'s isAdmin with the action, never for anonymous or a scoped key', () => {
    fc.assert(
      fc.property(accessControl, principal, action, (ac, who, act) => {
        expect(decideAdmin(ac, who, act).allow).toBe(adminMay(ac, who, act));
        expect(isAdmin(ac, who)).toBe(isAdminModel(ac, who));
        if (who.name === null || (who.scopes ?? []).length > 0) expect(isAdmin(ac, who)).toBe(false);
      }),
      RUNS,
    );
  });

  it('metrics: anonymous (and any scoped key) needs metrics.anonymousPolicy read; a named user must be listed', () => {
    fc.assert(
      fc.property(accessControl, principal, (ac, who) => {
        const asAnonymous = who.name === null || (who.scopes ?? []).length > 0;
        const expected = asAnonymous ? (ac.metrics?.anonymousPolicy?.includes('read') ?? false) : (ac.metrics?.users?.includes(who.name!) ?? false);
        expect(decideMetrics(ac, who).allow).toBe(expected);
      }),
      RUNS,
    );
  });

  // A manifest write's create-or-update per tag is decideManifestWrite's (manifest-write.property.test.ts).
  it('authorize: a repository requirement needs every check', () => {
    const checks = fc.array(fc.record({ repository, action }), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(accessControl, principal, checks, (ac, who, list) => {
        const all = authorize({ ac, principal: who, requirement: { kind: 'repository', checks: list } });
        expect(all.allow).toBe(list.every((check) => allows(ac, who, check.repository, check.action)));
      }),
      RUNS,
    );
  });
});
