import { describe, expect, it } from 'vitest';
import { bindingDecision, isLocalSubject, localSubject, type Subject } from '../../../src/policy/subject-binding.js';

const ISSUER = 'https://authentik.example.org/application/o/zot/';
const ALICE: Subject = { issuer: ISSUER, subject: 'a1b2' };
const REFUSED = { allow: false, reason: 'username-bound-to-another-subject', boundTo: ALICE };

describe('bindingDecision: a username stays with the IdP account that first signed in with it', () => {
  it.each<[string, Subject | null, Subject, unknown]>([
    ['bound to nobody (never signed in, or from before bindings): binds', null, ALICE, { allow: true, bind: true }],
    ['bound to this account', ALICE, { ...ALICE }, { allow: true, bind: false }],
    ['another sub at the same issuer', ALICE, { issuer: ISSUER, subject: 'm3n4' }, REFUSED],
    ['the same sub at another issuer', ALICE, { issuer: 'https://other.example.org/', subject: 'a1b2' }, REFUSED],
    ['the issuer written differently (a trailing slash): another issuer', ALICE, { issuer: ISSUER.slice(0, -1), subject: 'a1b2' }, REFUSED],
    ['a sub differing in case only', ALICE, { issuer: ISSUER, subject: 'A1B2' }, REFUSED],
    ['a service account (the local subject): any IdP account is refused', localSubject('ci'), { issuer: ISSUER, subject: 'ci' }, { ...REFUSED, boundTo: { issuer: 'zot-gate:local', subject: 'ci' } }],
  ])('%s', (_name, bound, presented, expected) => {
    expect(bindingDecision(bound, presented)).toEqual(expected);
  });

  it('the local subject is told from an IdP account by its issuer', () => {
    expect(isLocalSubject(localSubject('ci'))).toBe(true);
    expect(isLocalSubject(ALICE)).toBe(false);
  });
});
