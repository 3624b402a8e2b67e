/**
 * A deliberately simple reading of zot's accessControl and of immutableTags,
 * written from zot's documentation (pkg/api/authz.go `can`, `isPermitted`,
 * `isAdmin`) and the README, sharing no code with src/policy. Globs are read
 * as plain regular expressions, which is exactly doublestar for the pattern
 * grammar of ./policies.ts (glob.property.test.ts checks that).
 */
import type { Action, ImmutableTagRule, PolicyGroup, AccessControl, Principal } from '../../../src/policy/types.js';

/** Patterns the generators know to be invalid (unclosed class, empty class, stray brace). */
export const INVALID_PATTERNS: readonly string[] = ['a/[', '[]', 'b/}', '{a'];

/** `*` and `?` stay in a segment; a `**` segment spans zero or more segments, and `a/**` matches `a`. */
export function simpleGlob(pattern: string): RegExp {
  const segments = pattern.split('/');
  let source = '';
  segments.forEach((segment, index) => {
    const first = index === 0;
    const last = index === segments.length - 1;
    if (segment === '**') {
      if (first && last) source += '.*';
      else if (first) source += '(?:.*/)?';
      else if (last) source += '(?:/.*)?';
      else source += '(?:/.*)?/';
      return;
    }
    if (!first && segments[index - 1] !== '**') source += '/';
    source += segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[^/]*').replaceAll('?', '[^/]');
  });
  return new RegExp(`^${source}$`);
}

function matches(pattern: string, name: string): boolean {
  return pattern !== '' && !INVALID_PATTERNS.includes(pattern) && simpleGlob(pattern).test(name);
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

interface Subject {
  readonly name: string | null;
  readonly groups: readonly string[];
}

/** A principal's own groups plus every `accessControl.groups` entry listing its name; anonymous has none. */
function subjectOf(ac: AccessControl, principal: Principal): Subject {
  if (principal.name === null) return { name: null, groups: [] };
  const name = principal.name;
  const listed = Object.entries(ac.groups ?? {}).filter(([, entry]) => entry.users?.includes(name)).map(([group]) => group);
  return { name, groups: [...principal.groups, ...listed] };
}

function permitted(group: PolicyGroup, { name, groups }: Subject, action: Action): boolean {
  const policies = group.policies ?? [];
  if (name !== null && policies.some((p) => p.users?.includes(name) && p.actions.includes(action))) return true;
  if (policies.some((p) => p.actions.includes(action) && p.groups?.some((g) => groups.includes(g)))) return true;
  if (name !== null) return group.defaultPolicy?.includes(action) ?? false;
  return group.anonymousPolicy?.includes(action) ?? false;
}

function admin(ac: AccessControl, { name, groups }: Subject, action: Action): boolean {
  const policy = ac.adminPolicy;
  if (name === null || policy === undefined || !policy.actions.includes(action)) return false;
  return (policy.users?.includes(name) ?? false) || (policy.groups?.some((g) => groups.includes(g)) ?? false);
}

/** The keys zot could choose for `repository`: every longest matching key (zot breaks ties at random), else `""`. */
export function candidateKeys(ac: AccessControl, repository: string): Array<string | null> {
  const matching = Object.keys(ac.repositories).filter((pattern) => matches(pattern, repository));
  if (matching.length === 0) return Object.hasOwn(ac.repositories, '') ? [''] : [null];
  const longest = Math.max(...matching.map(utf8Length));
  return matching.filter((pattern) => utf8Length(pattern) === longest);
}

/**
 * Every answer zot could give (one per candidate key): the chosen key's
 * group, else adminPolicy. A key with scopes that match nothing here is
 * worth what anonymous is worth.
 */
export function possibleAnswers(ac: AccessControl, principal: Principal, repository: string, action: Action): boolean[] {
  const subject = inScopes(principal, repository) ? subjectOf(ac, principal) : { name: null, groups: [] };
  return candidateKeys(ac, repository).map((key) => {
    const group = key === null ? undefined : ac.repositories[key];
    return (group !== undefined && permitted(group, subject, action)) || admin(ac, subject, action);
  });
}

/** zot's isAdmin, for an unscoped principal: named in adminPolicy.users, or in one of its groups. */
export function isAdminModel(ac: AccessControl, principal: Principal): boolean {
  const { name, groups } = subjectOf(ac, principal);
  if (name === null || (principal.scopes ?? []).length > 0) return false;
  return (ac.adminPolicy?.users?.includes(name) ?? false) || (ac.adminPolicy?.groups?.some((g) => groups.includes(g)) ?? false);
}

/** An admin whose adminPolicy.actions hold `action`. */
export function adminMay(ac: AccessControl, principal: Principal, action: Action): boolean {
  return isAdminModel(ac, principal) && (ac.adminPolicy?.actions.includes(action) ?? false);
}

/** Whether an API key's scopes let it act as its owner on `repository` (no scopes: always). */
export function inScopes(principal: Principal, repository: string): boolean {
  const scopes = principal.scopes ?? [];
  return scopes.length === 0 || scopes.some((scope) => matches(scope, repository));
}

/** the repository and the tag match, no `except` does; signature tags only by a `sha256-` glob. */
export function frozenBy(rules: readonly ImmutableTagRule[], repository: string, tag: string): number | null {
  const signature = /^sha256-[0-9a-f]{64}\.(sig|att|sbom)$/.test(tag);
  const index = rules.findIndex(
    (rule) =>
      rule.repositories.some((pattern) => matches(pattern, repository)) &&
      rule.tags.some((pattern) => (!signature || pattern.startsWith('sha256-')) && matches(pattern, tag)) &&
      !(rule.except ?? []).some((pattern) => matches(pattern, tag)),
  );
  return index < 0 ? null : index;
}
