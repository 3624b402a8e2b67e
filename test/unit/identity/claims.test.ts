import { describe, expect, it } from 'vitest';
import { loginIdentity, type ClaimRules } from '../../../src/identity/claims.js';

const EMAIL: ClaimRules = { claimMapping: { username: 'email', groups: 'groups' }, allowUnverifiedEmail: false };
const LENIENT: ClaimRules = { ...EMAIL, allowUnverifiedEmail: true };
const PREFERRED: ClaimRules = { ...EMAIL, claimMapping: { username: 'preferred_username', groups: 'groups' } };
const ALICE = { ok: true, username: 'alice@example.org', groups: ['admins'] };
const UNVERIFIED = { ok: false, reason: 'email-unverified', username: 'alice@example.org' };
type Claims = Record<string, unknown>;

describe('loginIdentity', () => {
  it.each<[string, ClaimRules, Claims, Claims | null, unknown]>([
    ['email verified in the ID token', EMAIL, { email: 'alice@example.org', email_verified: true, groups: ['admins'] }, null, ALICE],
    ['email_verified false', EMAIL, { email: 'alice@example.org', email_verified: false, groups: ['admins'] }, null, UNVERIFIED],
    ['email_verified absent', EMAIL, { email: 'alice@example.org', groups: ['admins'] }, null, UNVERIFIED],
    ['email_verified the string "true" (not a boolean, OIDC Core §5.1)', EMAIL, { email: 'alice@example.org', email_verified: 'true' }, null, UNVERIFIED],
    ['allowUnverifiedEmail: false is accepted', LENIENT, { email: 'alice@example.org', email_verified: false, groups: ['admins'] }, null, ALICE],
    ['another username claim needs no email_verified', PREFERRED, { preferred_username: 'alice', email_verified: false, groups: 'admins' }, null, { ok: true, username: 'alice', groups: ['admins'] }],
    [
      'the address from userinfo, verified in userinfo',
      EMAIL,
      { email: 'old@example.org', email_verified: false },
      { email: 'alice@example.org', email_verified: true, groups: ['admins'] },
      ALICE,
    ],
    [
      "the ID token's email_verified never vouches for userinfo's address",
      EMAIL,
      { email: 'mallory@example.org', email_verified: true },
      { email: 'alice@example.org', groups: ['admins'] },
      UNVERIFIED,
    ],
    [
      "userinfo's email_verified never vouches for the ID token's address",
      EMAIL,
      { email: 'alice@example.org', groups: ['admins'] },
      { email_verified: true },
      UNVERIFIED,
    ],
    ['no username claim', EMAIL, { sub: 'x' }, {}, { ok: false, reason: 'username-claim-missing' }],
    ['a blank username', PREFERRED, { preferred_username: '  ' }, null, { ok: false, reason: 'username-claim-missing' }],
    ['a username with ESC', PREFERRED, { preferred_username: 'eve\u001b[2J' }, null, { ok: false, reason: 'username-invalid', problem: 'control characters are not allowed' }],
    ['an address with a newline, verified: the username rule first', EMAIL, { email: 'a@b\nc', email_verified: true }, null, { ok: false, reason: 'username-invalid', problem: 'control characters are not allowed' }],
  ])('%s', (_name, rules, idToken, userinfo, expected) => {
    expect(loginIdentity(idToken, userinfo, rules)).toEqual(expected);
  });
});
