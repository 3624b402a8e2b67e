import { describe, expect, it } from 'vitest';
import { authorize, decideBase } from '../../../src/policy/authorize.js';
import type { AccessControl, Principal } from '../../../src/policy/types.js';

const ac: AccessControl = {
  repositories: {
    '**': { anonymousPolicy: ['read'], policies: [{ groups: ['ci'], actions: ['read', 'create'] }] },
    'ops/**': { policies: [{ groups: ['ops'], actions: ['read', 'update'] }] },
  },
};
const anonymous: Principal = { name: null, groups: [] };
const ci: Principal = { name: 'ci', groups: ['ci'] };
const ops: Principal = { name: 'op', groups: ['ops'] };

describe('authorize: tag-write needs create per new tag and update per existing tag (zot manifestWriteAuthzChecks)', () => {
  it.each([
    ['ci, new tag', ci, 'app', ['v1'], [], { allow: true, action: 'create' }],
    ['ci, existing tag', ci, 'app', ['latest'], ['latest'], { allow: false, action: 'update', tag: 'latest' }],
    ['ci, digest PUT with a new and an existing tag', ci, 'app', ['new', 'latest'], ['latest'], { allow: false, action: 'update', tag: 'latest' }],
    ['op may move an existing tag with update alone', ops, 'ops/x', ['latest'], ['latest'], { allow: true, action: 'update', tag: 'latest' }],
    ['op may not create a new tag', ops, 'ops/x', ['v2'], [], { allow: false, action: 'create' }],
  ] as const)('%s', (_name, principal, repository, tags, existing, expected) => {
    const verdict = authorize({ ac, principal, requirement: { kind: 'tag-write', repository, tags }, existingTags: new Set(existing) });
    expect({ allow: verdict.allow, action: verdict.check?.action, ...(verdict.tag ? { tag: verdict.tag } : {}) }).toEqual(expected);
  });

  it('every check of a repository requirement must allow; the first denial decides', () => {
    const verdict = authorize({
      ac,
      principal: ci,
      requirement: { kind: 'repository', checks: [{ repository: 'app', action: 'create' }, { repository: 'ops/secret', action: 'read' }] },
    });
    expect(verdict).toEqual({
      allow: false,
      decision: { allow: false, reason: 'action-not-granted', pattern: 'ops/**' },
      check: { repository: 'ops/secret', action: 'read' },
    });
  });
});

describe('decideBase (GET /v2/)', () => {
  it.each([
    ['anonymous client', anonymous, false, ac, { allow: false, reason: 'authentication-required' }],
    ['anonymous zot UI where anonymous reads exist', anonymous, true, ac, { allow: true, reason: 'base-allowed' }],
    ['anonymous zot UI where none exist', anonymous, true, { repositories: { '**': { defaultPolicy: ['read'] } } }, { allow: false, reason: 'authentication-required' }],
    ['named identity', ci, false, ac, { allow: true, reason: 'base-allowed' }],
  ] as const)('%s', (_name, principal, ui, policy, expected) => {
    expect(decideBase(policy, principal, ui)).toEqual(expected);
  });
});
