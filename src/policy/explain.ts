/**
 * `zot-gate explain`: the decision for one identity, repository and action,
 * and the lines an operator reads to see which key and which policy line
 * made it. Pure: it returns the lines, the command prints them.
 */
import type { Action } from '../registry/types.js';
import { decideRepository, groupsOf, matchingPatterns, precedenceReason } from './access.js';
import { findImmutableRule, type ImmutableMatch } from './immutable.js';
import { matchGlob } from './glob.js';
import { decideManifestDelete, decideManifestPush, decideManifestWrite, type WriteVerdict } from './manifest-write.js';
import type { AccessControl, Decision, ImmutableTagRule, Principal } from './types.js';

export interface ExplainInput {
  readonly ac: AccessControl;
  readonly immutableTags: readonly ImmutableTagRule[];
  readonly principal: Principal;
  readonly repository: string;
  readonly action: Action;
  readonly tag?: string;
}

export interface Explanation {
  readonly decision: Decision;
  readonly lines: string[];
}

/**
 * Explains a repository decision. With a tag, the decision is the one the
 * gate makes for a manifest written or deleted under that tag, by the same
 * functions (manifest-write.ts): an `update` of an immutable tag is denied
 * (`tag-immutable`), and so is a `delete` by anyone but an admin holding delete.
 */
export function explain(input: ExplainInput): Explanation {
  const { ac, principal, repository, action, tag } = input;
  const immutable = tag === undefined ? null : findImmutableRule(input.immutableTags, repository, tag);
  const decision = decide(input);
  const lines = [
    `decision: ${decision.allow ? 'allow' : 'deny'} (${decision.reason})`,
    `request: ${action} on ${JSON.stringify(repository)} by ${who(input)}`,
    ...scopeLines(principal, repository),
    ...patternLines(matchingPatterns(ac, repository), repository),
    ruleLine(decision, input),
  ];
  if (tag !== undefined) lines.push(immutableLine(immutable, tag, action));
  return { decision, lines };
}

// Stand-ins for the manifest being pushed and the one the tag holds: `update` asks about moving the tag.
const PUSHED = `sha256:${'1'.repeat(64)}`;
const HELD = `sha256:${'2'.repeat(64)}`;

/**
 * `create` with a tag: a push that makes the tag; `update`: one that moves it
 * to another manifest; `delete`: deleting it. Each as the manifest guards
 * decide it, after the gate's push check. `read`, or no tag: the policy alone.
 */
function decide(input: ExplainInput): Decision {
  const { ac, immutableTags, principal, repository, action, tag } = input;
  if (tag === undefined || action === 'read') return decideRepository(ac, principal, repository, action);
  let verdict: WriteVerdict;
  if (action === 'delete') {
    const frozenTags = findImmutableRule(immutableTags, repository, tag) === null ? [] : [tag];
    verdict = decideManifestDelete({ ac, immutableTags, principal, repository, frozenTags });
  } else {
    const push = decideManifestPush(ac, principal, repository);
    const holding = action === 'create' ? ({ kind: 'absent' } as const) : ({ kind: 'present', digest: HELD } as const);
    verdict = push.allow ? decideManifestWrite({ ac, immutableTags, principal, repository, digest: PUSHED, tags: [{ tag, holding }] }) : push;
  }
  // the operator reads which rule froze the tag
  const { decision, immutable } = verdict;
  return decision.reason === 'tag-immutable' && immutable !== undefined ? { ...decision, rule: `immutableTags[${immutable.index}]` } : decision;
}

function who({ ac, principal }: ExplainInput): string {
  if (principal.name === null) return 'anonymous';
  const groups = groupsOf(ac, principal).map((group) =>
    principal.groups.includes(group) ? group : `${group} via accessControl.groups`,
  );
  return `${principal.name} (${groups.length === 0 ? 'no groups' : `groups: ${groups.join(', ')}`})`;
}

function scopeLines(principal: Principal, repository: string): string[] {
  const scopes = principal.scopes ?? [];
  if (scopes.length === 0) return [];
  const listed = scopes.map((scope) => JSON.stringify(scope)).join(', ');
  return scopes.some((scope) => matchGlob(scope, repository))
    ? [`scope: inside the key's scopes ${listed}`]
    : [`scope: outside the key's scopes ${listed}; judged as anonymous`];
}

function patternLines(matching: readonly string[], repository: string): string[] {
  const [first, second] = matching;
  if (first === undefined) return [`pattern: none (no key matches ${JSON.stringify(repository)} and there is no "" key)`];
  if (first === '') return ['pattern: "" (no key matches; the "" group applies)'];
  if (second === undefined) return [`pattern: ${JSON.stringify(first)} (the only matching key)`];
  const listed = matching.map((pattern) => JSON.stringify(pattern)).join(', ');
  const lines = [`pattern: ${JSON.stringify(first)} (longest of ${matching.length} matching: ${listed})`];
  const why = second === '' ? 'longer' : precedenceReason(first, second);
  if (why !== 'longer') {
    const by = why === 'fewer-wildcards' ? 'it has fewer wildcards' : 'it sorts first in code-unit order';
    lines.push(`tie: ${JSON.stringify(first)} and ${JSON.stringify(second)} are equally long; ${JSON.stringify(first)} wins because ${by}`);
  }
  return lines;
}

function ruleLine(decision: Decision, { principal, action }: ExplainInput): string {
  if (decision.rule !== undefined) return `rule: ${decision.rule}`;
  const named = principal.name !== null && decision.reason !== 'key-scope';
  const target = named ? (principal.name as string) : 'anonymous';
  const admin = named ? `; nor does adminPolicy` : '';
  return decision.pattern === undefined
    ? `rule: none (no repositories group applies${admin})`
    : `rule: none (repositories[${JSON.stringify(decision.pattern)}] does not grant ${action} to ${target}${admin})`;
}

function immutableLine(immutable: ImmutableMatch | null, tag: string, action: Action): string {
  if (immutable === null) return `immutable: no immutableTags rule matches tag ${JSON.stringify(tag)}`;
  const { index, rule } = immutable;
  const except = (rule.except ?? []).length === 0 ? '' : ` except ${list(rule.except ?? [])}`;
  const effect = {
    read: 'existing tag cannot be overwritten',
    create: 'existing tag cannot be overwritten',
    update: 'existing tag cannot be overwritten (re-pushing the same digest is accepted)',
    delete: 'existing tag cannot be overwritten; deleting it needs an admin identity',
  }[action];
  return `immutable: immutableTags[${index}] repositories ${list(rule.repositories)} tags ${list(rule.tags)}${except} — ${effect}`;
}

function list(patterns: readonly string[]): string {
  return `[${patterns.map((pattern) => JSON.stringify(pattern)).join(', ')}]`;
}
