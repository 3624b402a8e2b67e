import { describe, expect, it } from 'vitest';
import type { Decision, Principal } from '../../../src/policy/types.js';
import { decideUploadSession, uploadOwnerOf } from '../../../src/policy/uploads.js';

const ANONYMOUS: Principal = { name: null, groups: [] };
const ALICE: Principal = { name: 'alice', groups: ['dev'] };
const BOB: Principal = { name: 'bob', groups: ['dev'] };

describe('decideUploadSession: a session belongs to whoever opened it', () => {
  it.each<[string, string | undefined, Principal, Decision]>([
    ['the owner', 'alice', ALICE, { allow: true, reason: 'upload-owner' }],
    ['anonymous, on a session opened anonymously', '', ANONYMOUS, { allow: true, reason: 'upload-owner' }],
    // a named caller: unknown and another's look the same, 404
    ['another user', 'alice', BOB, { allow: false, reason: 'upload-not-owned' }],
    ['a user, on a session opened anonymously', '', ALICE, { allow: false, reason: 'upload-not-owned' }],
    ['a user, on an unknown session', undefined, ALICE, { allow: false, reason: 'upload-not-owned' }],
    // no credentials: maybe the owner who was not challenged yet, 401
    ['anonymous, on a user\'s session', 'alice', ANONYMOUS, { allow: false, reason: 'authentication-required' }],
    ['anonymous, on an unknown session', undefined, ANONYMOUS, { allow: false, reason: 'authentication-required' }],
  ])('%s', (_name, owner, principal, expected) => {
    expect(decideUploadSession(owner, principal)).toEqual(expected);
  });

  it('binds a session to the user name, or "" for anonymous', () => {
    expect(uploadOwnerOf(ALICE)).toBe('alice');
    expect(uploadOwnerOf(ANONYMOUS)).toBe('');
  });
});
