import { describe, expect, it } from 'vitest';
import {
  decideAdmin,
  decideMetrics,
  decideReadAll,
  decideRepository,
  groupsOf,
  isAdmin,
  matchingPatterns,
  precedenceReason,
  readableFilter,
} from '../../../src/policy/access.js';
import type { AccessControl, Action, Decision, Principal } from '../../../src/policy/types.js';

const AC: AccessControl = {
  repositories: {
    '**': {
      anonymousPolicy: ['read'],
      policies: [{ groups: ['artifact-workloads'], actions: ['read', 'create'] }],
    },
    'blumeops/**': {
      policies: [
        { users: ['alice'], actions: ['read', 'create', 'update'] },
        { groups: ['blumeops-ci'], actions: ['read', 'create'] },
        { groups: ['blumeops-ci', 'artifact-workloads'], actions: ['delete'] },
      ],
      defaultPolicy: ['read'],
    },
    'blumeops/secret/**': { policies: [{ users: ['bob'], actions: ['read'] }] },
    'star/*': {
      policies: [
        { users: ['*'], actions: ['read'] },
        { groups: ['*'], actions: ['create'] },
      ],
    },
    'tie/*b': { policies: [{ users: ['left'], actions: ['read'] }] },
    'tie/a*': { policies: [{ users: ['right'], actions: ['read'] }] },
    'tie/x?': { policies: [{ users: ['wild'], actions: ['read'] }] },
    'tie/xy': { policies: [{ users: ['plain'], actions: ['read'] }] },
    // 'é*' is 2 characters but 3 UTF-8 bytes: longer than '?a' for Go's len
    'é*': { policies: [{ users: ['bytes'], actions: ['read'] }] },
    '?a': { policies: [{ users: ['chars'], actions: ['read'] }] },
    'broken/[': { anonymousPolicy: ['read', 'create', 'update', 'delete'] },
  },
  adminPolicy: { users: ['root'], groups: ['admins'], actions: ['read', 'delete'] },
  groups: { 'blumeops-ci': { users: ['ci-bot'] }, admins: { users: ['frank'] } },
  metrics: { users: ['prom'], anonymousPolicy: ['read'] },
};

const anonymous: Principal = { name: null, groups: [] };
const user = (name: string, groups: string[] = [], scopes?: string[]): Principal =>
  scopes === undefined ? { name, groups } : { name, groups, scopes };

type Row = readonly [label: string, principal: Principal, repository: string, action: Action, decision: Decision];

const LONGEST_PATTERN: Row[] = [
  ['the longest matching key decides', user('alice'), 'blumeops/app', 'create',
    { allow: true, reason: 'user-policy', pattern: 'blumeops/**', rule: 'repositories["blumeops/**"].policies[0].users: alice' }],
  ['no fallback to "**" when "blumeops/**" denies a group member', user('carol', ['artifact-workloads']), 'blumeops/app', 'create',
    { allow: false, reason: 'action-not-granted', pattern: 'blumeops/**' }],
  ['no fallback to "**" for anonymous either', anonymous, 'blumeops/app', 'read',
    { allow: false, reason: 'action-not-granted', pattern: 'blumeops/**' }],
  ['a deeper key wins over both', user('alice'), 'blumeops/secret/x', 'read',
    { allow: false, reason: 'action-not-granted', pattern: 'blumeops/secret/**' }],
  ['"blumeops/**" covers "blumeops" itself', user('alice'), 'blumeops', 'update',
    { allow: true, reason: 'user-policy', pattern: 'blumeops/**', rule: 'repositories["blumeops/**"].policies[0].users: alice' }],
  ['"**" for the rest', anonymous, 'library/alpine', 'read',
    { allow: true, reason: 'anonymous-policy', pattern: '**', rule: 'repositories["**"].anonymousPolicy' }],
  ['an invalid key is never chosen', anonymous, 'broken/[', 'delete',
    { allow: false, reason: 'action-not-granted', pattern: '**' }],
];

const TIE_BREAK: Row[] = [
  ['equal length and wildcards: the smaller in code-unit order ("*" < "a")', user('left'), 'tie/ab', 'read',
    { allow: true, reason: 'user-policy', pattern: 'tie/*b', rule: 'repositories["tie/*b"].policies[0].users: left' }],
  ['so the other key\'s users get nothing', user('right'), 'tie/ab', 'read',
    { allow: false, reason: 'action-not-granted', pattern: 'tie/*b' }],
  ['equal length: fewer wildcards wins', user('plain'), 'tie/xy', 'read',
    { allow: true, reason: 'user-policy', pattern: 'tie/xy', rule: 'repositories["tie/xy"].policies[0].users: plain' }],
  ['equal length: more wildcards loses', user('wild'), 'tie/xy', 'read',
    { allow: false, reason: 'action-not-granted', pattern: 'tie/xy' }],
  ['length is counted in UTF-8 bytes, as Go does', user('bytes'), 'éa', 'read',
    { allow: true, reason: 'user-policy', pattern: 'é*', rule: 'repositories["é*"].policies[0].users: bytes' }],
];

const INSIDE_A_GROUP: Row[] = [
  ['user policies come before group policies', user('alice', ['blumeops-ci']), 'blumeops/app', 'read',
    { allow: true, reason: 'user-policy', pattern: 'blumeops/**', rule: 'repositories["blumeops/**"].policies[0].users: alice' }],
  ['a group from the identity', user('carol', ['artifact-workloads']), 'library/alpine', 'create',
    { allow: true, reason: 'group-policy', pattern: '**', rule: 'repositories["**"].policies[0].groups: artifact-workloads' }],
  ['a group from static accessControl.groups', user('ci-bot'), 'blumeops/app', 'create',
    { allow: true, reason: 'group-policy', pattern: 'blumeops/**', rule: 'repositories["blumeops/**"].policies[1].groups: blumeops-ci' }],
  ['the policy names the first of its groups the user is in', user('carol', ['artifact-workloads']), 'blumeops/app', 'delete',
    { allow: true, reason: 'group-policy', pattern: 'blumeops/**', rule: 'repositories["blumeops/**"].policies[2].groups: artifact-workloads' }],
  ['defaultPolicy for a named user', user('dave'), 'blumeops/app', 'read',
    { allow: true, reason: 'default-policy', pattern: 'blumeops/**', rule: 'repositories["blumeops/**"].defaultPolicy' }],
  ['named users do not get anonymousPolicy', user('dave'), 'library/alpine', 'read',
    { allow: false, reason: 'action-not-granted', pattern: '**' }],
  ['anonymous carries no groups, whatever it is handed', { name: null, groups: ['artifact-workloads'] }, 'library/alpine', 'create',
    { allow: false, reason: 'action-not-granted', pattern: '**' }],
  ['"*" in users is a literal name', user('dave'), 'star/x', 'read',
    { allow: false, reason: 'action-not-granted', pattern: 'star/*' }],
  ['a user literally named "*"', user('*'), 'star/x', 'read',
    { allow: true, reason: 'user-policy', pattern: 'star/*', rule: 'repositories["star/*"].policies[0].users: *' }],
  ['"*" in groups is a literal group', user('dave', ['anything']), 'star/x', 'create',
    { allow: false, reason: 'action-not-granted', pattern: 'star/*' }],
  ['a group literally named "*"', user('dave', ['*']), 'star/x', 'create',
    { allow: true, reason: 'group-policy', pattern: 'star/*', rule: 'repositories["star/*"].policies[1].groups: *' }],
];

const ADMIN: Row[] = [
  ['adminPolicy after the group denies', user('root'), 'blumeops/secret/x', 'delete',
    { allow: true, reason: 'admin-policy', rule: 'adminPolicy.users: root' }],
  ['adminPolicy through a group', user('erin', ['admins']), 'blumeops/secret/x', 'read',
    { allow: true, reason: 'admin-policy', rule: 'adminPolicy.groups: admins' }],
  ['adminPolicy through static accessControl.groups', user('frank'), 'blumeops/secret/x', 'read',
    { allow: true, reason: 'admin-policy', rule: 'adminPolicy.groups: admins' }],
  ['only the actions adminPolicy lists', user('root'), 'blumeops/app', 'update',
    { allow: false, reason: 'action-not-granted', pattern: 'blumeops/**' }],
  ['the repository group is asked first', user('erin', ['admins', 'artifact-workloads']), 'library/alpine', 'read',
    { allow: true, reason: 'group-policy', pattern: '**', rule: 'repositories["**"].policies[0].groups: artifact-workloads' }],
];

const SCOPES: Row[] = [
  ['inside its scopes a key is its user', user('alice', [], ['blumeops/app']), 'blumeops/app', 'create',
    { allow: true, reason: 'user-policy', pattern: 'blumeops/**', rule: 'repositories["blumeops/**"].policies[0].users: alice' }],
  ['outside, it is anonymous: denied with key-scope', user('alice', [], ['blumeops/app']), 'blumeops/lib', 'create',
    { allow: false, reason: 'key-scope', pattern: 'blumeops/**' }],
  ['outside, it can still pull what anonymous can', user('alice', [], ['blumeops/app']), 'library/alpine', 'read',
    { allow: true, reason: 'anonymous-policy', pattern: '**', rule: 'repositories["**"].anonymousPolicy' }],
  ['outside, its groups do not count', user('carol', ['artifact-workloads'], ['blumeops/**']), 'library/alpine', 'create',
    { allow: false, reason: 'key-scope', pattern: '**' }],
  ['admin powers inside the scopes', user('root', [], ['blumeops/**']), 'blumeops/secret/x', 'delete',
    { allow: true, reason: 'admin-policy', rule: 'adminPolicy.users: root' }],
  ['no admin powers outside', user('root', [], ['blumeops/**']), 'library/alpine', 'delete',
    { allow: false, reason: 'key-scope', pattern: '**' }],
  ['an empty scope list limits nothing', user('alice', [], []), 'blumeops/app', 'create',
    { allow: true, reason: 'user-policy', pattern: 'blumeops/**', rule: 'repositories["blumeops/**"].policies[0].users: alice' }],
];

describe('decideRepository', () => {
  it.each([
    ...LONGEST_PATTERN.map((row) => ['longest pattern', ...row] as const),
    ...TIE_BREAK.map((row) => ['tie-break', ...row] as const),
    ...INSIDE_A_GROUP.map((row) => ['inside a group', ...row] as const),
    ...ADMIN.map((row) => ['adminPolicy', ...row] as const),
    ...SCOPES.map((row) => ['scopes', ...row] as const),
  ])('%s: %s', (_section, _label, principal, repository, action, decision) => {
    expect(decideRepository(AC, principal, repository, action)).toEqual(decision);
  });
});

describe('decideRepository: the "" key', () => {
  const withFallback: AccessControl = {
    repositories: { '': { anonymousPolicy: ['read'] }, 'team/*': { defaultPolicy: ['read', 'create'] } },
    adminPolicy: { users: ['root'], actions: ['create'] },
  };
  const without: AccessControl = {
    repositories: { 'team/*': { defaultPolicy: ['read'] } },
    adminPolicy: { users: ['root'], actions: ['create'] },
  };

  it.each([
    ['the "" group serves names no key matches', withFallback, anonymous, 'other/x', 'read',
      { allow: true, reason: 'anonymous-policy', pattern: '', rule: 'repositories[""].anonymousPolicy' }],
    ['and denies what it does not grant', withFallback, user('dave'), 'other/x', 'read',
      { allow: false, reason: 'action-not-granted', pattern: '' }],
    ['a matching key is preferred to ""', withFallback, anonymous, 'team/x', 'read',
      { allow: false, reason: 'action-not-granted', pattern: 'team/*' }],
    ['no key and no "": no-matching-pattern', without, user('dave'), 'other/x', 'read',
      { allow: false, reason: 'no-matching-pattern' }],
    ['adminPolicy still applies there', without, user('root'), 'other/x', 'create',
      { allow: true, reason: 'admin-policy', rule: 'adminPolicy.users: root' }],
  ] as const)('%s', (_label, ac, principal, repository, action, decision) => {
    expect(decideRepository(ac, principal, repository, action)).toEqual(decision);
  });
});

describe('matchingPatterns', () => {
  it.each([
    ['blumeops/secret/x', ['blumeops/secret/**', 'blumeops/**', '**']],
    ['tie/ab', ['tie/*b', 'tie/a*', '**']],
    ['tie/xy', ['tie/xy', 'tie/x?', '**']],
    ['blumeops', ['blumeops/**', '**']],
  ])('%s → %j', (repository, patterns) => {
    expect(matchingPatterns(AC, repository)).toEqual(patterns);
  });

  it('lists "" last when it is configured', () => {
    const ac: AccessControl = { repositories: { '': {}, 'a/*': {} } };
    expect(matchingPatterns(ac, 'a/b')).toEqual(['a/*', '']);
    expect(matchingPatterns(ac, 'c')).toEqual(['']);
  });
});

describe('precedenceReason', () => {
  it.each([
    ['blumeops/**', '**', 'longer'],
    ['tie/xy', 'tie/x?', 'fewer-wildcards'],
    ['tie/*b', 'tie/a*', 'code-unit-order'],
    ['é*', '?a', 'longer'],
  ] as const)('%j over %j: %s', (first, second, reason) => {
    expect(precedenceReason(first, second)).toBe(reason);
  });
});

describe('groupsOf', () => {
  it.each([
    [user('ci-bot'), ['blumeops-ci']],
    [user('ci-bot', ['x', 'blumeops-ci']), ['x', 'blumeops-ci']],
    [user('frank', ['ops']), ['ops', 'admins']],
    [anonymous, []],
  ])('%j → %j', (principal, groups) => {
    expect(groupsOf(AC, principal)).toEqual(groups);
  });
});

describe('decideMetrics', () => {
  const closed: AccessControl = { repositories: {}, adminPolicy: { users: ['root'], actions: ['read'] } };
  const createOnly: AccessControl = { repositories: {}, metrics: { anonymousPolicy: ['create'] } };

  it.each([
    ['anonymous with metrics.anonymousPolicy read', AC, anonymous,
      { allow: true, reason: 'metrics-anonymous', rule: 'metrics.anonymousPolicy' }],
    ['a user listed in metrics.users', AC, user('prom'),
      { allow: true, reason: 'metrics-user', rule: 'metrics.users: prom' }],
    ['a named user not listed gets no anonymous fallback', AC, user('dave'),
      { allow: false, reason: 'metrics-not-granted' }],
    ['adminPolicy grants no metrics (zot does not consult it)', AC, user('root'),
      { allow: false, reason: 'metrics-not-granted' }],
    ['a scoped key is anonymous for metrics', AC, user('dave', [], ['blumeops/**']),
      { allow: true, reason: 'metrics-anonymous', rule: 'metrics.anonymousPolicy' }],
    ['no metrics block: anonymous denied', closed, anonymous, { allow: false, reason: 'metrics-not-granted' }],
    ['no metrics block: admin denied', closed, user('root'), { allow: false, reason: 'metrics-not-granted' }],
    ['anonymousPolicy without read', createOnly, anonymous, { allow: false, reason: 'metrics-not-granted' }],
  ] as const)('%s', (_label, ac, principal, decision) => {
    expect(decideMetrics(ac, principal)).toEqual(decision);
  });
});

describe('decideReadAll', () => {
  const open: AccessControl = {
    repositories: {
      '**': { anonymousPolicy: ['read'], defaultPolicy: ['read'] },
      'team/**': { anonymousPolicy: ['read'], defaultPolicy: ['read'], policies: [{ users: ['alice'], actions: ['create'] }] },
    },
  };
  const uncovered: AccessControl = { repositories: { 'team/**': { anonymousPolicy: ['read'] } } };
  const fallback: AccessControl = {
    repositories: { '': { anonymousPolicy: ['read'] }, 'team/**': { anonymousPolicy: ['read'] } },
  };
  const unreachableFallback: AccessControl = { repositories: { '**': { anonymousPolicy: ['read'] }, '': {} } };
  const adminWithoutRead: AccessControl = {
    repositories: { '**': {} },
    adminPolicy: { users: ['root'], actions: ['delete'] },
  };

  it.each([
    ['an admin holding read', AC, user('root'), { allow: true, reason: 'admin-policy', rule: 'adminPolicy.users: root' }],
    ['one group denying is enough to refuse', AC, anonymous, { allow: false, reason: 'read-all-required', pattern: 'blumeops/secret/**' }],
    ['a scoped admin is judged as anonymous', AC, user('root', [], ['blumeops/**']),
      { allow: false, reason: 'read-all-required', pattern: 'blumeops/secret/**' }],
    ['unless a scope covers every name', AC, user('root', [], ['**']), { allow: true, reason: 'admin-policy', rule: 'adminPolicy.users: root' }],
    ['every group grants anonymous read', open, anonymous,
      { allow: true, reason: 'anonymous-policy', pattern: '**', rule: 'repositories["**"].anonymousPolicy' }],
    ['every group grants a named user read', open, user('dave'),
      { allow: true, reason: 'default-policy', pattern: '**', rule: 'repositories["**"].defaultPolicy' }],
    ['names outside every key', uncovered, anonymous, { allow: false, reason: 'read-all-required' }],
    ['the "" key covers the rest', fallback, anonymous,
      { allow: true, reason: 'anonymous-policy', pattern: '', rule: 'repositories[""].anonymousPolicy' }],
    ['a "" key that can never be chosen does not count', unreachableFallback, anonymous,
      { allow: true, reason: 'anonymous-policy', pattern: '**', rule: 'repositories["**"].anonymousPolicy' }],
    ['an admin without read in adminPolicy.actions', adminWithoutRead, user('root'), { allow: false, reason: 'read-all-required', pattern: '**' }],
  ] as const)('%s', (_label, ac, principal, decision) => {
    expect(decideReadAll(ac, principal)).toEqual(decision);
  });
});

describe('isAdmin and decideAdmin', () => {
  it.each([
    [user('root'), true],
    [user('erin', ['admins']), true],
    [user('frank'), true],
    [user('dave', ['ops']), false],
    [anonymous, false],
    [user('root', [], ['**']), false],
  ])('isAdmin(%j) → %s', (principal, admin) => {
    expect(isAdmin(AC, principal)).toBe(admin);
  });

  it.each([
    [user('root'), 'delete', { allow: true, reason: 'admin-policy', rule: 'adminPolicy.users: root' }],
    [user('erin', ['admins']), 'read', { allow: true, reason: 'admin-policy', rule: 'adminPolicy.groups: admins' }],
    [user('root'), 'update', { allow: false, reason: 'admin-required' }],
    [user('dave'), 'delete', { allow: false, reason: 'admin-required' }],
    [anonymous, 'read', { allow: false, reason: 'admin-required' }],
    [user('root', [], ['**']), 'delete', { allow: false, reason: 'admin-required' }],
  ] as const)('decideAdmin(%j, %s)', (principal, action, decision) => {
    expect(decideAdmin(AC, principal, action)).toEqual(decision);
  });
});

describe('readableFilter', () => {
  const names = ['library/alpine', 'blumeops/app', 'blumeops/secret/key', 'star/x', 'tie/ab'];

  it.each([
    ['anonymous', anonymous, ['library/alpine']],
    ['a defaultPolicy user', user('dave'), ['blumeops/app']],
    ['bob', user('bob'), ['blumeops/app', 'blumeops/secret/key']],
    ['an admin holding read', user('root'), names],
    ['a scoped key', user('bob', [], ['blumeops/secret/**']), ['library/alpine', 'blumeops/secret/key']],
  ])('%s reads %j', (_label, principal, readable) => {
    expect(names.filter(readableFilter(AC, principal))).toEqual(readable);
  });
});
