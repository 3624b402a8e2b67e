import { describe, expect, it } from 'vitest';
import { capabilities, type Capability } from '../../../src/policy/capabilities.js';
import type { AccessControl, Principal } from '../../../src/policy/types.js';

const AC: AccessControl = {
  repositories: {
    '**': { anonymousPolicy: ['read'], policies: [{ groups: ['artifact-workloads'], actions: ['read', 'create'] }] },
    'blumeops/**': {
      policies: [
        { users: ['dave'], actions: ['read', 'create', 'update'] },
        { groups: ['blumeops-ci'], actions: ['read', 'create'] },
        { groups: ['artifact-workloads'], actions: ['delete'] },
      ],
      defaultPolicy: ['read'],
    },
    'private/**': { policies: [{ groups: ['admins'], actions: ['read'] }] },
    'bad/[': { defaultPolicy: ['read'] },
    '': { defaultPolicy: ['read'] },
  },
  adminPolicy: { groups: ['admins'], actions: ['read', 'create', 'update', 'delete'] },
  groups: { 'blumeops-ci': { users: ['erin'] } },
};

const NOTHING = 'not granted';

describe('capabilities', () => {
  it.each<[string, Principal, Capability[]]>([
    [
      'anonymous',
      { name: null, groups: [] },
      [
        { pattern: '**', actions: ['read'], via: 'anonymous policy' },
        { pattern: 'blumeops/**', actions: [], via: NOTHING },
        { pattern: 'private/**', actions: [], via: NOTHING },
        { pattern: '', actions: [], via: NOTHING },
      ],
    ],
    [
      'a user in no group: no anonymousPolicy, only defaultPolicy',
      { name: 'carol', groups: [] },
      [
        { pattern: '**', actions: [], via: NOTHING },
        { pattern: 'blumeops/**', actions: ['read'], via: 'default policy' },
        { pattern: 'private/**', actions: [], via: NOTHING },
        { pattern: '', actions: ['read'], via: 'default policy' },
      ],
    ],
    [
      'a group member',
      { name: 'bob', groups: ['artifact-workloads'] },
      [
        { pattern: '**', actions: ['read', 'create'], via: 'group artifact-workloads' },
        { pattern: 'blumeops/**', actions: ['read', 'delete'], via: 'default policy, group artifact-workloads' },
        { pattern: 'private/**', actions: [], via: NOTHING },
        { pattern: '', actions: ['read'], via: 'default policy' },
      ],
    ],
    [
      'a user policy wins before group policies',
      { name: 'dave', groups: ['blumeops-ci'] },
      [
        { pattern: '**', actions: [], via: NOTHING },
        { pattern: 'blumeops/**', actions: ['read', 'create', 'update'], via: 'user dave' },
        { pattern: 'private/**', actions: [], via: NOTHING },
        { pattern: '', actions: ['read'], via: 'default policy' },
      ],
    ],
    [
      "a member of a static group (accessControl.groups)",
      { name: 'erin', groups: [] },
      [
        { pattern: '**', actions: [], via: NOTHING },
        { pattern: 'blumeops/**', actions: ['read', 'create'], via: 'group blumeops-ci' },
        { pattern: 'private/**', actions: [], via: NOTHING },
        { pattern: '', actions: ['read'], via: 'default policy' },
      ],
    ],
    [
      'an admin: the group first, adminPolicy for the rest',
      { name: 'alice', groups: ['admins'] },
      [
        { pattern: '**', actions: ['read', 'create', 'update', 'delete'], via: 'admin' },
        { pattern: 'blumeops/**', actions: ['read', 'create', 'update', 'delete'], via: 'default policy, admin' },
        { pattern: 'private/**', actions: ['read', 'create', 'update', 'delete'], via: 'group admins, admin' },
        { pattern: '', actions: ['read', 'create', 'update', 'delete'], via: 'default policy, admin' },
      ],
    ],
    [
      "an API key's scopes do not change what a pattern grants",
      { name: 'bob', groups: ['artifact-workloads'], scopes: ['elsewhere/*'] },
      [
        { pattern: '**', actions: ['read', 'create'], via: 'group artifact-workloads' },
        { pattern: 'blumeops/**', actions: ['read', 'delete'], via: 'default policy, group artifact-workloads' },
        { pattern: 'private/**', actions: [], via: NOTHING },
        { pattern: '', actions: ['read'], via: 'default policy' },
      ],
    ],
  ])('%s', (_name, principal, expected) => {
    expect(capabilities(AC, principal)).toEqual(expected);
  });

  it.each<[string, AccessControl, Principal, Capability[]]>([
    ['no keys at all', { repositories: {} }, { name: 'bob', groups: [] }, []],
    [
      'adminPolicy by user name, and "*" in users is a literal name',
      {
        repositories: { 'a/*': { policies: [{ users: ['*'], actions: ['read'] }] } },
        adminPolicy: { users: ['root'], actions: ['delete'] },
      },
      { name: 'root', groups: [] },
      [{ pattern: 'a/*', actions: ['delete'], via: 'admin' }],
    ],
    [
      'a group name holding the rule separator',
      { repositories: { '**': { policies: [{ groups: ['x].groups: y'], actions: ['read'] }] } } },
      { name: 'bob', groups: ['x].groups: y'] },
      [{ pattern: '**', actions: ['read'], via: 'group x].groups: y' }],
    ],
  ])('%s', (_name, ac, principal, expected) => {
    expect(capabilities(ac, principal)).toEqual(expected);
  });
});
