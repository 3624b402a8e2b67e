/**
 * Who logged in, from the ID token's claims and userinfo, through the
 * provider's `claimMapping` (zot's defaults: `email`, `groups`). Pure.
 *
 * An `email` username counts only when the IdP says the address is verified
 * (`email_verified: true`, OIDC Core §5.1): many IdPs let users type in any
 * address, and the address then names someone else's account here. The
 * provider's (or trusted issuer's) `allowUnverifiedEmail` lifts that.
 */
import type { ClaimMapping } from '../config/types.js';
import { checkUsername } from '../policy/username.js';

export interface LoginIdentity {
  readonly username: string;
  /** sorted, de-duplicated */
  readonly groups: readonly string[];
}

/** What decides who a login is: the provider's (or trusted issuer's) settings. */
export interface ClaimRules {
  readonly claimMapping: ClaimMapping;
  readonly allowUnverifiedEmail: boolean;
}

/** Why claims name nobody; kebab-case, as in logs and audit events. */
export type ClaimsRefusal =
  | { readonly ok: false; readonly reason: 'username-claim-missing' }
  | { readonly ok: false; readonly reason: 'username-invalid'; readonly problem: string }
  /** `username`: the address, which passed the username rule */
  | { readonly ok: false; readonly reason: 'email-unverified'; readonly username: string };

export type ClaimsResult = ({ readonly ok: true } & LoginIdentity) | ClaimsRefusal;

/** The username claim that needs `email_verified: true` beside it. */
const EMAIL = 'email';

/**
 * Userinfo wins over the ID token where both carry a claim (it is fresher and
 * may be the only one with groups). `email_verified` is read from the same
 * one the username came from, so that one source's verified flag never
 * vouches for the other's address.
 */
export function loginIdentity(idToken: Record<string, unknown>, userinfo: Record<string, unknown> | null, rules: ClaimRules): ClaimsResult {
  const mapping = rules.claimMapping;
  const claims = { ...idToken, ...(userinfo ?? {}) };
  const username = claims[mapping.username];
  if (typeof username !== 'string' || username.trim() === '') return { ok: false, reason: 'username-claim-missing' };
  const checked = checkUsername(username);
  if (!checked.ok) return { ok: false, reason: 'username-invalid', problem: checked.problem };
  const source = userinfo !== null && typeof userinfo[mapping.username] === 'string' ? userinfo : idToken;
  if (mapping.username === EMAIL && !rules.allowUnverifiedEmail && source.email_verified !== true) {
    return { ok: false, reason: 'email-unverified', username };
  }
  return { ok: true, username, groups: groupsOf(claims[mapping.groups]) };
}

function groupsOf(value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  return [...new Set(list.filter((g): g is string => typeof g === 'string' && g !== ''))].sort();
}
