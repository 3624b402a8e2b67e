/**
 * From what a request needs (registry/) to one verdict (policy/). Pure: the
 * only outside fact, whether a tag already exists, is passed in by the caller
 * who asked the upstream.
 */
import type { RepositoryCheck, Requirement } from '../registry/types.js';
import { decideAdmin, decideMetrics, decideReadAll, decideRepository } from './access.js';
import type { AccessControl, Decision, Principal } from './types.js';

/** The requirements that a policy decides (the others are answered by the gate itself). */
export type DecidableRequirement = Extract<
  Requirement,
  { kind: 'repository' | 'tag-write' | 'metrics' | 'read-all' | 'admin' }
>;

export interface Verdict {
  readonly allow: boolean;
  /** the first denying decision, or the last allowing one */
  readonly decision: Decision;
  /** the repository check that decided, for repository and tag-write requirements */
  readonly check?: RepositoryCheck;
  /** the tag whose state made the check an `update`, for tag-write */
  readonly tag?: string;
}

export interface AuthorizeInput {
  readonly ac: AccessControl;
  readonly principal: Principal;
  readonly requirement: DecidableRequirement;
  /** for tag-write: the requirement's tags that already exist upstream */
  readonly existingTags?: ReadonlySet<string>;
}

export function authorize({ ac, principal, requirement, existingTags }: AuthorizeInput): Verdict {
  switch (requirement.kind) {
    case 'metrics':
      return fromDecision(decideMetrics(ac, principal));
    case 'read-all':
      return fromDecision(decideReadAll(ac, principal));
    case 'admin':
      return fromDecision(decideAdmin(ac, principal, requirement.action));
    case 'repository':
      return allOf(ac, principal, requirement.checks.map((check) => ({ check })));
    case 'tag-write': {
      // zot's manifestWriteAuthzChecks: each tag needs create when new and
      // update when it exists (update alone suffices to move a tag).
      const repository = requirement.repository;
      const steps: Step[] = requirement.tags.map((tag) =>
        existingTags?.has(tag) === true ? { check: { repository, action: 'update' }, tag } : { check: { repository, action: 'create' } },
      );
      return allOf(ac, principal, steps);
    }
  }
}

interface Step {
  readonly check: RepositoryCheck;
  readonly tag?: string;
}

function allOf(ac: AccessControl, principal: Principal, steps: readonly Step[]): Verdict {
  let last: Verdict | undefined;
  for (const step of steps) {
    const decision = decideRepository(ac, principal, step.check.repository, step.check.action);
    last = { allow: decision.allow, decision, check: step.check, ...(step.tag === undefined ? {} : { tag: step.tag }) };
    if (!decision.allow) return last;
  }
  if (last === undefined) throw new Error('authorize: a repository requirement with no checks');
  return last;
}

function fromDecision(decision: Decision): Verdict {
  return { allow: decision.allow, decision };
}

/**
 * `/v2/` as zot answers it, with one difference: an anonymous client gets a
 * challenge, because clients that see 200 never send the credentials they
 * hold (zot special-cases docker for this; behind the gate every registry has
 * keyed users). zot's UI reads 200 as "guest access allowed", so it gets 200
 * when anonymous reads exist.
 */
export function decideBase(ac: AccessControl, principal: Principal, fromZotUi: boolean): Decision {
  const allow = principal.name !== null || (fromZotUi && anonymousPolicyExists(ac));
  return { allow, reason: allow ? 'base-allowed' : 'authentication-required' };
}

/** zot's `AnonymousPolicyExists`: does any repository group grant anything to anonymous users? */
export function anonymousPolicyExists(ac: AccessControl): boolean {
  return Object.values(ac.repositories).some((group) => (group.anonymousPolicy?.length ?? 0) > 0);
}
