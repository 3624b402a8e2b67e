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

// A manifest write (create per new tag, update per moved one) is decided by policy/manifest-write.ts.
describe('authorize', () => {
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
