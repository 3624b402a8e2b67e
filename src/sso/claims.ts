/**
 * Who logged in, from the ID token's claims and userinfo, through the
 * provider's `claimMapping` (zot's defaults: `email`, `groups`).
 */
import type { ClaimMapping } from '../config/types.js';

export interface LoginIdentity {
  readonly username: string;
  /** sorted, de-duplicated */
  readonly groups: readonly string[];
}

/** Userinfo wins over the ID token where both carry a claim (it is fresher and may be the only one with groups). */
export function loginIdentity(idToken: Record<string, unknown>, userinfo: Record<string, unknown> | null, mapping: ClaimMapping): LoginIdentity | null {
  const claims = { ...idToken, ...(userinfo ?? {}) };
  const username = claims[mapping.username];
  if (typeof username !== 'string' || username.trim() === '') return null;
  return { username, groups: groupsOf(claims[mapping.groups]) };
}

function groupsOf(value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  return [...new Set(list.filter((g): g is string => typeof g === 'string' && g !== ''))].sort();
}
