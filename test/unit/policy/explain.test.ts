import { describe, expect, it } from 'vitest';
import { explain, type ExplainInput } from '../../../src/policy/explain.js';
import type { AccessControl, ImmutableTagRule, Principal } from '../../../src/policy/types.js';

const AC: AccessControl = {
  repositories: {
    '**': {
      anonymousPolicy: ['read'],
      policies: [{ groups: ['artifact-workloads'], actions: ['read', 'create'] }],
    },
    'blumeops/**': {
      policies: [
        { groups: ['artifact-workloads'], actions: ['read', 'create', 'update'] },
        { users: ['carol'], actions: ['delete'] },
      ],
    },
    '': { anonymousPolicy: ['read'] },
    'tie/*b': {},
    'tie/a*': {},
  },
  adminPolicy: { groups: ['admins'], actions: ['read', 'create', 'update', 'delete'] },
  groups: { admins: { users: ['root'] } },
};

const TAGS: readonly ImmutableTagRule[] = [
  { repositories: ['blumeops/**'], tags: ['v*'], except: [] },
  { repositories: ['**'], tags: ['stable*'], except: ['stable-rc*'] },
];

const alice: Principal = { name: 'alice', groups: ['artifact-workloads'] };
const anonymous: Principal = { name: null, groups: [] };

const request = (principal: Principal, repository: string, action: ExplainInput['action'], tag?: string): ExplainInput => ({
  ac: AC,
  immutableTags: TAGS,
  principal,
  repository,
  action,
  ...(tag === undefined ? {} : { tag }),
});

const BLUMEOPS = 'pattern: "blumeops/**" (longest of 3 matching: "blumeops/**", "**", "")';

describe('explain', () => {
  it.each([
    ['a group grant', request(alice, 'blumeops/app', 'create'), [
      'decision: allow (group-policy)',
      'request: create on "blumeops/app" by alice (groups: artifact-workloads)',
      BLUMEOPS,
      'rule: repositories["blumeops/**"].policies[0].groups: artifact-workloads',
    ]],
    ['a tag under an immutableTags rule', request(alice, 'blumeops/app', 'create', 'v1.0'), [
      'decision: allow (group-policy)',
      'request: create on "blumeops/app" by alice (groups: artifact-workloads)',
      BLUMEOPS,
      'rule: repositories["blumeops/**"].policies[0].groups: artifact-workloads',
      'immutable: immutableTags[0] repositories ["blumeops/**"] tags ["v*"] — existing tag cannot be overwritten',
    ]],
    ['update of an immutable tag is denied whatever the policy', request(alice, 'blumeops/app', 'update', 'v1.0'), [
      'decision: deny (tag-immutable)',
      'request: update on "blumeops/app" by alice (groups: artifact-workloads)',
      BLUMEOPS,
      'rule: immutableTags[0]',
      'immutable: immutableTags[0] repositories ["blumeops/**"] tags ["v*"] — existing tag cannot be overwritten (re-pushing the same digest is accepted)',
    ]],
    ['update of a mutable tag', request(alice, 'blumeops/app', 'update', 'latest'), [
      'decision: allow (group-policy)',
      'request: update on "blumeops/app" by alice (groups: artifact-workloads)',
      BLUMEOPS,
      'rule: repositories["blumeops/**"].policies[0].groups: artifact-workloads',
      'immutable: no immutableTags rule matches tag "latest"',
    ]],
    // as the gate answers the push: the frozen tag decides before the missing update grant
    ['update of an immutable tag by a caller without update', request(alice, 'library/alpine', 'update', 'stable'), [
      'decision: deny (tag-immutable)',
      'request: update on "library/alpine" by alice (groups: artifact-workloads)',
      'pattern: "**" (longest of 2 matching: "**", "")',
      'rule: immutableTags[1]',
      'immutable: immutableTags[1] repositories ["**"] tags ["stable*"] except ["stable-rc*"] — existing tag cannot be overwritten (re-pushing the same digest is accepted)',
    ]],
    ['an except glob', request(alice, 'library/alpine', 'create', 'stable-rc1'), [
      'decision: allow (group-policy)',
      'request: create on "library/alpine" by alice (groups: artifact-workloads)',
      'pattern: "**" (longest of 2 matching: "**", "")',
      'rule: repositories["**"].policies[0].groups: artifact-workloads',
      'immutable: no immutableTags rule matches tag "stable-rc1"',
    ]],
    ['deleting an immutable tag without being an admin', request({ name: 'carol', groups: [] }, 'blumeops/app', 'delete', 'v2'), [
      'decision: deny (tag-immutable)',
      'request: delete on "blumeops/app" by carol (no groups)',
      BLUMEOPS,
      'rule: immutableTags[0]',
      'immutable: immutableTags[0] repositories ["blumeops/**"] tags ["v*"] — existing tag cannot be overwritten; deleting it needs an admin identity',
    ]],
    ['an admin deleting it, admin through accessControl.groups', request({ name: 'root', groups: [] }, 'library/alpine', 'delete', 'stable'), [
      'decision: allow (admin-policy)',
      'request: delete on "library/alpine" by root (groups: admins via accessControl.groups)',
      'pattern: "**" (longest of 2 matching: "**", "")',
      'rule: adminPolicy.groups: admins',
      'immutable: immutableTags[1] repositories ["**"] tags ["stable*"] except ["stable-rc*"] — existing tag cannot be overwritten; deleting it needs an admin identity',
    ]],
    ['anonymous', request(anonymous, 'library/alpine', 'read'), [
      'decision: allow (anonymous-policy)',
      'request: read on "library/alpine" by anonymous',
      'pattern: "**" (longest of 2 matching: "**", "")',
      'rule: repositories["**"].anonymousPolicy',
    ]],
    ['a named user gets no anonymousPolicy', request({ name: 'dave', groups: [] }, 'library/alpine', 'read'), [
      'decision: deny (action-not-granted)',
      'request: read on "library/alpine" by dave (no groups)',
      'pattern: "**" (longest of 2 matching: "**", "")',
      'rule: none (repositories["**"] does not grant read to dave; nor does adminPolicy)',
    ]],
    ['no fallback to a shorter key', request(anonymous, 'blumeops/app', 'read'), [
      'decision: deny (action-not-granted)',
      'request: read on "blumeops/app" by anonymous',
      BLUMEOPS,
      'rule: none (repositories["blumeops/**"] does not grant read to anonymous)',
    ]],
    ['an API key outside its scopes', request({ ...alice, scopes: ['ci/**', 'tools'] }, 'blumeops/app', 'create'), [
      'decision: deny (key-scope)',
      'request: create on "blumeops/app" by alice (groups: artifact-workloads)',
      'scope: outside the key\'s scopes "ci/**", "tools"; judged as anonymous',
      BLUMEOPS,
      'rule: none (repositories["blumeops/**"] does not grant create to anonymous)',
    ]],
    ['an API key inside its scopes', request({ ...alice, scopes: ['blumeops/app'] }, 'blumeops/app', 'read'), [
      'decision: allow (group-policy)',
      'request: read on "blumeops/app" by alice (groups: artifact-workloads)',
      'scope: inside the key\'s scopes "blumeops/app"',
      BLUMEOPS,
      'rule: repositories["blumeops/**"].policies[0].groups: artifact-workloads',
    ]],
    ['an equal-length tie', request(alice, 'tie/ab', 'read'), [
      'decision: deny (action-not-granted)',
      'request: read on "tie/ab" by alice (groups: artifact-workloads)',
      'pattern: "tie/*b" (longest of 4 matching: "tie/*b", "tie/a*", "**", "")',
      'tie: "tie/*b" and "tie/a*" are equally long; "tie/*b" wins because it sorts first in code-unit order',
      'rule: none (repositories["tie/*b"] does not grant read to alice; nor does adminPolicy)',
    ]],
  ])('%s', (_label, input, lines) => {
    expect(explain(input).lines).toEqual(lines);
  });

  it.each([
    ['only ""', { repositories: { '': { anonymousPolicy: ['read'] }, 'team/*': {} } }, 'other', [
      'decision: allow (anonymous-policy)',
      'request: read on "other" by anonymous',
      'pattern: "" (no key matches; the "" group applies)',
      'rule: repositories[""].anonymousPolicy',
    ]],
    ['no key at all', { repositories: { 'team/*': {} } }, 'other', [
      'decision: deny (no-matching-pattern)',
      'request: read on "other" by anonymous',
      'pattern: none (no key matches "other" and there is no "" key)',
      'rule: none (no repositories group applies)',
    ]],
    ['a single key', { repositories: { 'team/*': { anonymousPolicy: ['read'] } } }, 'team/x', [
      'decision: allow (anonymous-policy)',
      'request: read on "team/x" by anonymous',
      'pattern: "team/*" (the only matching key)',
      'rule: repositories["team/*"].anonymousPolicy',
    ]],
    ['fewer wildcards', { repositories: { 'team/x?': {}, 'team/xy': { anonymousPolicy: ['read'] } } }, 'team/xy', [
      'decision: allow (anonymous-policy)',
      'request: read on "team/xy" by anonymous',
      'pattern: "team/xy" (longest of 2 matching: "team/xy", "team/x?")',
      'tie: "team/xy" and "team/x?" are equally long; "team/xy" wins because it has fewer wildcards',
      'rule: repositories["team/xy"].anonymousPolicy',
    ]],
  ] as const)('pattern lines: %s', (_label, ac: AccessControl, repository, lines) => {
    const input: ExplainInput = { ac, immutableTags: [], principal: anonymous, repository, action: 'read' };
    expect(explain(input).lines).toEqual(lines);
  });

  it('returns the decision it explains', () => {
    expect(explain(request(alice, 'blumeops/app', 'update', 'v1.0')).decision).toEqual({
      allow: false,
      reason: 'tag-immutable',
      rule: 'immutableTags[0]',
    });
  });

  it('names a named user "no groups" wording only when there are none', () => {
    const { lines } = explain(request({ name: 'root', groups: ['ops'] }, 'x', 'read'));
    expect(lines[1]).toBe('request: read on "x" by root (groups: ops, admins via accessControl.groups)');
  });
});
