/**
 * zot's `accessControl` semantics (pkg/api/authz.go: `can`, `isPermitted`,
 * `isAdmin`, `getUserGroups`; the metrics rules of `MetricsAuthzHandler`),
 * as pure functions from configuration and principal to a Decision.
 */
import type { Action } from '../registry/types.js';
import { compileGlob, globCoversEveryName, globProblem, matchGlob } from './glob.js';
import type { AccessControl, Decision, PolicyGroup, Principal } from './types.js';

/** A principal with zot's static group membership merged in; scopes already applied. */
interface Subject {
  readonly name: string | null;
  readonly groups: readonly string[];
}

interface Key {
  readonly pattern: string;
  readonly test: (name: string) => boolean;
}

/** The usable keys of one AccessControl, most specific first. */
interface Prepared {
  readonly keys: readonly Key[];
  readonly fallback: PolicyGroup | undefined;
}

type Grant = Required<Pick<Decision, 'reason' | 'rule'>>;

const ANONYMOUS: Subject = Object.freeze({ name: null, groups: [] });
const WILDCARDS = new Set(['*', '?', '[', '{']);
// config objects are frozen once loaded, so their identity is a safe cache key
const preparedCache = new WeakMap<AccessControl, Prepared>();

/**
 * zot's `can`: the longest `repositories` key whose glob matches decides
 * alone (no fallback to shorter keys); the key `""` is the group for names no
 * key matches. Length is counted in UTF-8 bytes, as Go's `len`. zot breaks
 * equal lengths by Go map order, i.e. at random; here the key with fewer
 * unescaped wildcards (`*`, `?`, `[`, `{`) wins, then the smaller in
 * code-unit order. Keys that `globProblem` rejects are never chosen.
 *
 * Inside the group the first grant wins: user policies, group policies,
 * `defaultPolicy` (named users only), `anonymousPolicy` (anonymous only).
 * When that denies, `adminPolicy` grants its actions on every repository.
 *
 * An API key's scopes (`principal.scopes`, non-empty) limit the key: for a
 * repository no scope matches, it is evaluated as anonymous, and a denial
 * says `key-scope`. Absent or empty scopes mean no limit, as in the key store.
 */
export function decideRepository(ac: AccessControl, principal: Principal, repository: string, action: Action): Decision {
  if (inScope(principal, repository)) return decideFor(ac, subjectOf(ac, principal), repository, action);
  const decision = decideFor(ac, ANONYMOUS, repository, action);
  return decision.allow ? decision : { ...decision, reason: 'key-scope' };
}

/**
 * Every key that matches `repository`, in the order they take precedence
 * (the first decides), with `""` last when it is configured.
 */
export function matchingPatterns(ac: AccessControl, repository: string): string[] {
  const { keys, fallback } = prepare(ac);
  const matching = keys.filter((key) => key.test(repository)).map((key) => key.pattern);
  if (fallback !== undefined) matching.push('');
  return matching;
}

/**
 * `/metrics`, as zot's MetricsAuthzHandler: anonymous needs `read` in
 * `metrics.anonymousPolicy`; a named user must be listed in `metrics.users`.
 * `adminPolicy` plays no part (zot does not consult it there), and a named
 * user does not fall back to the anonymous rule. A scoped key counts as
 * anonymous: metrics are outside every repository scope.
 */
export function decideMetrics(ac: AccessControl, principal: Principal): Decision {
  const name = hasScopes(principal) ? null : principal.name;
  if (name === null) {
    return ac.metrics?.anonymousPolicy?.includes('read') === true
      ? { allow: true, reason: 'metrics-anonymous', rule: 'metrics.anonymousPolicy' }
      : { allow: false, reason: 'metrics-not-granted' };
  }
  return ac.metrics?.users?.includes(name) === true
    ? { allow: true, reason: 'metrics-user', rule: `metrics.users: ${name}` }
    : { allow: false, reason: 'metrics-not-granted' };
}

/**
 * May this principal read every possible repository name? Yes for an admin
 * holding `read`, or when every repository group that can be chosen grants
 * `read` and every name falls under some key (`""`, or a key such as `**`,
 * see `globCoversEveryName`). A scoped key is judged as anonymous unless one
 * of its scopes covers every name.
 */
export function decideReadAll(ac: AccessControl, principal: Principal): Decision {
  const unlimited = !hasScopes(principal) || (principal.scopes ?? []).some(globCoversEveryName);
  const subject = unlimited ? subjectOf(ac, principal) : ANONYMOUS;
  const admin = adminGrant(ac, subject, 'read');
  if (admin !== null) return { allow: true, ...admin };
  const { keys, fallback } = prepare(ac);
  const covering = keys.find((key) => globCoversEveryName(key.pattern))?.pattern ?? (fallback === undefined ? undefined : '');
  if (covering === undefined) return { allow: false, reason: 'read-all-required' };
  // `""` is chosen only for names no key matches, which a covering key rules out
  const reachable = [...keys.map((key) => key.pattern), ...(covering === '' ? [''] : [])];
  for (const pattern of reachable) {
    if (grantIn(pattern, groupOf(ac, pattern), subject, 'read') === null) {
      return { allow: false, reason: 'read-all-required', pattern };
    }
  }
  return { allow: true, pattern: covering, ...(grantIn(covering, groupOf(ac, covering), subject, 'read') as Grant) };
}

/**
 * zot's `isAdmin`: named in `adminPolicy.users`, or in a group of
 * `adminPolicy.groups`. A scoped key is not an admin here; it holds admin
 * powers only through `decideRepository`, inside its scopes.
 */
export function isAdmin(ac: AccessControl, principal: Principal): boolean {
  return !hasScopes(principal) && adminRule(ac, subjectOf(ac, principal)) !== null;
}

/** An admin-only operation: an admin whose `adminPolicy.actions` holds `action`. */
export function decideAdmin(ac: AccessControl, principal: Principal, action: Action): Decision {
  const grant = hasScopes(principal) ? null : adminGrant(ac, subjectOf(ac, principal), action);
  return grant === null ? { allow: false, reason: 'admin-required' } : { allow: true, ...grant };
}

/** A predicate for filtering `_catalog`: may the principal read this repository? */
export function readableFilter(ac: AccessControl, principal: Principal): (repository: string) => boolean {
  if (decideReadAll(ac, principal).allow) return () => true;
  return (repository) => decideRepository(ac, principal, repository, 'read').allow;
}

function decideFor(ac: AccessControl, subject: Subject, repository: string, action: Action): Decision {
  const { keys, fallback } = prepare(ac);
  const pattern = keys.find((key) => key.test(repository))?.pattern ?? (fallback === undefined ? undefined : '');
  if (pattern !== undefined) {
    const grant = grantIn(pattern, groupOf(ac, pattern), subject, action);
    if (grant !== null) return { allow: true, pattern, ...grant };
  }
  const admin = adminGrant(ac, subject, action);
  if (admin !== null) return { allow: true, ...admin };
  return pattern === undefined
    ? { allow: false, reason: 'no-matching-pattern' }
    : { allow: false, reason: 'action-not-granted', pattern };
}

/** zot's `isPermitted`, naming the line that granted. */
function grantIn(pattern: string, group: PolicyGroup, subject: Subject, action: Action): Grant | null {
  const at = `repositories[${JSON.stringify(pattern)}]`;
  const policies = group.policies ?? [];
  const { name, groups } = subject;
  if (name !== null) {
    const index = policies.findIndex((policy) => policy.users?.includes(name) === true && policy.actions.includes(action));
    if (index >= 0) return { reason: 'user-policy', rule: `${at}.policies[${index}].users: ${name}` };
  }
  for (const [index, policy] of policies.entries()) {
    if (!policy.actions.includes(action)) continue;
    const member = policy.groups?.find((group) => groups.includes(group));
    if (member !== undefined) return { reason: 'group-policy', rule: `${at}.policies[${index}].groups: ${member}` };
  }
  if (name !== null && group.defaultPolicy?.includes(action) === true) {
    return { reason: 'default-policy', rule: `${at}.defaultPolicy` };
  }
  if (name === null && group.anonymousPolicy?.includes(action) === true) {
    return { reason: 'anonymous-policy', rule: `${at}.anonymousPolicy` };
  }
  return null;
}

function adminGrant(ac: AccessControl, subject: Subject, action: Action): Grant | null {
  if (ac.adminPolicy?.actions.includes(action) !== true) return null;
  const rule = adminRule(ac, subject);
  return rule === null ? null : { reason: 'admin-policy', rule };
}

function adminRule(ac: AccessControl, subject: Subject): string | null {
  const { name, groups } = subject;
  if (name === null) return null;
  if (ac.adminPolicy?.users?.includes(name) === true) return `adminPolicy.users: ${name}`;
  const group = groups.find((candidate) => ac.adminPolicy?.groups?.includes(candidate) === true);
  return group === undefined ? null : `adminPolicy.groups: ${group}`;
}

/**
 * The groups policy sees for a principal: its own, then (zot's
 * `getUserGroups`) every `accessControl.groups` entry listing its name.
 * Anonymous has no groups, as in zot.
 */
export function groupsOf(ac: AccessControl, principal: Principal): string[] {
  const { name } = principal;
  if (name === null) return [];
  const groups = [...principal.groups];
  for (const [group, { users }] of Object.entries(ac.groups ?? {})) {
    if (users?.includes(name) === true && !groups.includes(group)) groups.push(group);
  }
  return groups;
}

/** Why key `first` takes precedence over key `second` (see `decideRepository`). */
export function precedenceReason(first: string, second: string): 'longer' | 'fewer-wildcards' | 'code-unit-order' {
  if (utf8Length(first) !== utf8Length(second)) return 'longer';
  return wildcards(first) !== wildcards(second) ? 'fewer-wildcards' : 'code-unit-order';
}

function subjectOf(ac: AccessControl, principal: Principal): Subject {
  return principal.name === null ? ANONYMOUS : { name: principal.name, groups: groupsOf(ac, principal) };
}

function hasScopes(principal: Principal): boolean {
  return principal.scopes !== undefined && principal.scopes.length > 0;
}

function inScope(principal: Principal, repository: string): boolean {
  return !hasScopes(principal) || (principal.scopes ?? []).some((scope) => matchGlob(scope, repository));
}

function groupOf(ac: AccessControl, pattern: string): PolicyGroup {
  return ac.repositories[pattern] as PolicyGroup;
}

function prepare(ac: AccessControl): Prepared {
  let prepared = preparedCache.get(ac);
  if (prepared === undefined) {
    const patterns = Object.keys(ac.repositories).filter((pattern) => pattern !== '' && globProblem(pattern) === null);
    const keys = patterns.sort(precedence).map((pattern) => ({ pattern, test: compileGlob(pattern) }));
    const fallback = Object.hasOwn(ac.repositories, '') ? ac.repositories[''] : undefined;
    prepared = { keys, fallback };
    preparedCache.set(ac, prepared);
  }
  return prepared;
}

/** Longest first (UTF-8 bytes, as Go's `len`); then fewer wildcards; then code-unit order. */
function precedence(a: string, b: string): number {
  return utf8Length(b) - utf8Length(a) || wildcards(a) - wildcards(b) || (a < b ? -1 : a > b ? 1 : 0);
}

function utf8Length(text: string): number {
  let length = 0;
  for (const char of text) {
    const point = char.codePointAt(0) as number;
    length += point < 0x80 ? 1 : point < 0x800 ? 2 : point < 0x10000 ? 3 : 4;
  }
  return length;
}

function wildcards(pattern: string): number {
  let count = 0;
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (WILDCARDS.has(pattern[i] as string)) count++;
  }
  return count;
}
