/**
 * accessControl configurations, principals and repository names for the
 * policy properties. Names and patterns share a small alphabet so that
 * patterns often match, overlap and tie in length.
 */
import fc from 'fast-check';
import type { AccessControl, Action, ImmutableTagRule, Policy, PolicyGroup, Principal } from '../../../src/policy/types.js';
import { INVALID_PATTERNS } from './policy-model.js';

export const ACTIONS: readonly Action[] = ['read', 'create', 'update', 'delete'];
export const action = fc.constantFrom(...ACTIONS);
export const USERS = ['alice', 'bob', '*', 'ci'] as const;
export const GROUPS = ['dev', 'ops', 'admins', '*'] as const;

const WORDS = ['a', 'b', 'ab', 'app', 'x'];

/** A repository name: 1 to 4 segments, often of one letter (what the short patterns below match). */
export const repository = fc
  .oneof(fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 4 }), fc.array(fc.constantFrom('a', 'b'), { minLength: 1, maxLength: 3 }))
  .map((parts) => parts.join('/'));

/**
 * Pattern segments. A `*` inside a segment (`a*`) is kept to the last one,
 * and `**` never follows `**`: there doublestar's search is complete and a
 * plain reading agrees with it. Elsewhere it is not: `a*` followed by `/**`
 * does not match `a`, nor does `a/**` followed by `/**` (doublestar accepts
 * a name that runs out only if the rest of the pattern is literally `**`,
 * `/**` and the like; src/policy/glob.ts follows it, the simple model does not).
 */
const headSegment = fc.constantFrom(...WORDS, '*', '**', '?');
const lastSegment = fc.constantFrom(...WORDS, '*', '**', 'a*', '*b', '?', 'a?', '?b', '*p*');

/** A valid repository glob from the grammar above. */
export const pattern = fc
  .tuple(fc.array(headSegment, { maxLength: 3 }), lastSegment)
  .map(([head, last]) => [...head, last])
  .filter((segments) => !segments.some((segment, index) => segment === '**' && segments[index - 1] === '**'))
  .map((segments) => segments.join('/'));

/** Patterns of one-character segments: equal lengths, so the tie-break decides often. */
const shortPattern = fc.array(fc.constantFrom('a', 'b', '*', '?'), { minLength: 1, maxLength: 3 }).map((segments) => segments.join('/'));

/** A key of `repositories`: mostly valid globs, sometimes `""` or an invalid glob. */
const key = fc.oneof(
  { weight: 8, arbitrary: pattern },
  { weight: 4, arbitrary: shortPattern },
  { weight: 1, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.constantFrom(...INVALID_PATTERNS) },
);

/** Actions as they appear in config: zot's four, in any order, and an unknown word now and then. */
export const actions = fc.subarray([...ACTIONS, 'write'], { minLength: 0 }).chain((list) => fc.shuffledSubarray(list, { minLength: list.length }));

const policy: fc.Arbitrary<Policy> = fc.record(
  { users: fc.subarray([...USERS]), groups: fc.subarray([...GROUPS]), actions },
  { requiredKeys: ['actions'] },
);

export const policyGroup: fc.Arbitrary<PolicyGroup> = fc.record(
  { policies: fc.array(policy, { maxLength: 3 }), defaultPolicy: actions, anonymousPolicy: actions },
  { requiredKeys: [] },
);

const accessControlWith = (keys: fc.Arbitrary<string>, maxKeys: number): fc.Arbitrary<AccessControl> => fc.record(
  {
    repositories: fc.dictionary(keys, policyGroup, { maxKeys }),
    adminPolicy: policy,
    groups: fc.dictionary(fc.constantFrom(...GROUPS), fc.record({ users: fc.subarray([...USERS]) }), { maxKeys: 2 }),
    metrics: fc.record({ users: fc.subarray([...USERS]), anonymousPolicy: fc.subarray(['read']) }, { requiredKeys: [] }),
  },
  { requiredKeys: ['repositories'] },
);

export const accessControl: fc.Arbitrary<AccessControl> = accessControlWith(key, 6);

/**
 * A configuration and a repository name where several keys of equal length
 * match, often: two-letter names under two-segment keys such as `a/*`, `?/b`.
 */
export const tieProne: fc.Arbitrary<[AccessControl, string]> = fc.tuple(
  accessControlWith(fc.array(fc.constantFrom('a', 'b', '*', '?'), { minLength: 2, maxLength: 2 }).map((segments) => segments.join('/')), 8),
  fc.array(fc.constantFrom('a', 'b'), { minLength: 2, maxLength: 2 }).map((parts) => parts.join('/')),
);

/** Any configuration with any name, or a tie-prone pair. */
export const configAndRepository: fc.Arbitrary<[AccessControl, string]> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(accessControl, repository) },
  { weight: 1, arbitrary: tieProne },
);

// ---- one more grant --------------------------------------------------------

interface Grant {
  readonly action: Action;
  readonly user: string;
  readonly group: string;
}

type Widening = (group: PolicyGroup, pick: number, grant: Grant) => PolicyGroup;

function onLine(group: PolicyGroup, pick: number, change: (line: Policy) => Policy): PolicyGroup {
  const policies = [...(group.policies ?? [])];
  if (policies.length === 0) return group;
  policies[pick % policies.length] = change(policies[pick % policies.length]!);
  return { ...group, policies };
}

const WIDENINGS: readonly Widening[] = [
  (group, _pick, { action }) => ({ ...group, defaultPolicy: [...(group.defaultPolicy ?? []), action] }),
  (group, _pick, { action }) => ({ ...group, anonymousPolicy: [...(group.anonymousPolicy ?? []), action] }),
  (group, _pick, { action, user, group: name }) => ({ ...group, policies: [...(group.policies ?? []), { users: [user], groups: [name], actions: [action] }] }),
  (group, pick, { action, user }) => onLine(group, pick, (line) => ({ ...line, actions: [...line.actions, action], users: [...(line.users ?? []), user] })),
  (group, pick, { group: name }) => onLine(group, pick, (line) => ({ ...line, groups: [...(line.groups ?? []), name] })),
];

/**
 * `ac` with one more grant in one key's group (an action in a policy, a user
 * or group on a line, a whole line), and that plus one more adminPolicy
 * action or group and one more static group member.
 */
export const widened = (ac: AccessControl): fc.Arbitrary<readonly [AccessControl, AccessControl]> =>
  fc.record({ pick: fc.nat(), how: fc.nat(), action, user: fc.constantFrom(...USERS, 'mallory'), group: fc.constantFrom(...GROUPS) }).map(({ pick, how, ...grant }) => {
    const keys = Object.keys(ac.repositories);
    const key = keys[pick % Math.max(keys.length, 1)];
    const repositories = { ...ac.repositories };
    if (key !== undefined) repositories[key] = WIDENINGS[how % WIDENINGS.length]!(repositories[key]!, pick, grant);
    const admin = ac.adminPolicy ?? { actions: [] };
    const adminPolicy = how % 2 === 0 ? { ...admin, actions: [...admin.actions, grant.action] } : { ...admin, groups: [...(admin.groups ?? []), grant.group] };
    const groups = { ...ac.groups, [grant.group]: { users: [...(ac.groups?.[grant.group]?.users ?? []), grant.user] } };
    return [{ ...ac, repositories }, { ...ac, repositories, adminPolicy, groups }] as const;
  });

export const anonymous: Principal = { name: null, groups: [] };

/** A named principal, its groups, and sometimes an API key's scopes (possibly `[]`, which limits nothing). */
export const named: fc.Arbitrary<Principal> = fc
  .tuple(fc.constantFrom(...USERS, 'mallory'), fc.subarray([...GROUPS]), fc.option(fc.array(pattern, { maxLength: 2 }), { nil: undefined }))
  .map(([name, groups, scopes]) => (scopes === undefined ? { name, groups } : { name, groups, scopes }));

export const principal: fc.Arbitrary<Principal> = fc.oneof({ weight: 1, arbitrary: fc.constant(anonymous) }, { weight: 3, arbitrary: named });

// ---- immutable tags --------------------------------------------------------

export const SIGNATURE = `sha256-${'a'.repeat(64)}.sig`;
const TAG_WORDS = ['latest', 'v1', 'v1.2', 'v1-rc1', 'stable', 'v', SIGNATURE];
export const tag = fc.constantFrom(...TAG_WORDS);
/** Tag globs: one segment, a `*` anywhere in it. */
const tagGlob = fc.constantFrom('*', '*', 'v*', 'v*', 'v1*', '*rc*', 'latest', 'stable', 'v?', 'sha256-*', '*.sig', 'x*');

export const immutableRule: fc.Arbitrary<ImmutableTagRule> = fc.record(
  {
    repositories: fc.array(fc.oneof(pattern, fc.constantFrom('**', 'a/**', '*')), { minLength: 1, maxLength: 2 }),
    tags: fc.array(tagGlob, { minLength: 1, maxLength: 2 }),
    except: fc.array(tagGlob, { maxLength: 1 }),
  },
  { requiredKeys: ['repositories', 'tags'] },
);
