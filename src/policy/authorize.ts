/**
 * From what a request needs (registry/) to one verdict (policy/). Pure. A
 * manifest PUT is not decided here: what it needs depends on the state of its
 * tags, which only its guard sees under a lock (policy/manifest-write.ts).
 */
import type { RepositoryCheck, Requirement } from '../registry/types.js';
import { decideAdmin, decideMetrics, decideReadAll, decideRepository } from './access.js';
import type { AccessControl, Decision, Principal } from './types.js';

/** The requirements that the policy alone decides (the others are answered by the gate itself, or by the manifest guard). */
export type DecidableRequirement = Extract<Requirement, { kind: 'repository' | 'metrics' | 'read-all' | 'admin' }>;

export interface Verdict {
  readonly allow: boolean;
  /** the first denying decision, or the last allowing one */
  readonly decision: Decision;
  /** the repository check that decided, for repository requirements */
  readonly check?: RepositoryCheck;
}

export interface AuthorizeInput {
  readonly ac: AccessControl;
  readonly principal: Principal;
  readonly requirement: DecidableRequirement;
}

export function authorize({ ac, principal, requirement }: AuthorizeInput): Verdict {
  switch (requirement.kind) {
    case 'metrics':
      return fromDecision(decideMetrics(ac, principal));
    case 'read-all':
      return fromDecision(decideReadAll(ac, principal));
    case 'admin':
      return fromDecision(decideAdmin(ac, principal, requirement.action));
    case 'repository':
      return allOf(ac, principal, requirement.checks);
  }
}

/** Every check must allow: the first denial decides, else the last allowance. */
function allOf(ac: AccessControl, principal: Principal, checks: readonly RepositoryCheck[]): Verdict {
  let last: Verdict | undefined;
  for (const check of checks) {
    const decision = decideRepository(ac, principal, check.repository, check.action);
    last = { allow: decision.allow, decision, check };
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
function anonymousPolicyExists(ac: AccessControl): boolean {
  return Object.values(ac.repositories).some((group) => (group.anonymousPolicy?.length ?? 0) > 0);
}
