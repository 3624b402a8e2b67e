/**
 * What a principal may do, pattern by pattern: the account page's table.
 * Each row is decided by `decideRepository` itself, so the page can never
 * say something the gate does not do.
 */
import { decideRepository } from './access.js';
import { globProblem } from './glob.js';
import type { AccessControl, Action, Decision, Principal } from './types.js';

/** One `accessControl.repositories` key and what the principal holds on the repositories it governs. */
export interface Capability {
  /** the glob key; `""` is the group for repositories no key matches */
  readonly pattern: string;
  /** in the order read, create, update, delete */
  readonly actions: readonly Action[];
  /** what granted them, e.g. `group artifact-workloads`, `admin`, `default policy`; `not granted` when nothing did */
  readonly via: string;
}

const ACTIONS: readonly Action[] = ['read', 'create', 'update', 'delete'];
// Any valid repository name: in the one-group config below every name falls to `""`.
const SOME_NAME = 'x';

/**
 * For every configured key (in configuration order, `""` last, keys that
 * `globProblem` rejects left out as they govern nothing), the actions zot
 * grants this principal on repositories that key governs: the key's group
 * (user policies, group policies, `defaultPolicy`, `anonymousPolicy`), then
 * `adminPolicy`. An API key's scopes are not applied: they narrow which
 * repositories a key reaches, not what a pattern grants.
 */
export function capabilities(ac: AccessControl, principal: Principal): Capability[] {
  const who: Principal = { name: principal.name, groups: principal.groups };
  const patterns = Object.keys(ac.repositories).filter((pattern) => pattern !== '' && globProblem(pattern) === null);
  if (Object.hasOwn(ac.repositories, '')) patterns.push('');
  return patterns.map((pattern) => {
    // The key's group alone, as the fallback `""`: zot's decision for every name this key governs.
    const only: AccessControl = { ...ac, repositories: { '': ac.repositories[pattern] ?? {} } };
    const granted = ACTIONS.map((action) => [action, decideRepository(only, who, SOME_NAME, action)] as const).filter(([, d]) => d.allow);
    const sources = [...new Set(granted.map(([, decision]) => viaOf(decision, who.name ?? '')))];
    return { pattern, actions: granted.map(([action]) => action), via: sources.length === 0 ? 'not granted' : sources.join(', ') };
  });
}

const GROUP_RULE = '].groups: ';

/** The policy line, in words. A group rule reads `repositories[""].policies[i].groups: <group>`. */
function viaOf(decision: Decision, name: string): string {
  switch (decision.reason) {
    case 'user-policy':
      return `user ${name}`;
    case 'group-policy': {
      const rule = decision.rule ?? '';
      return `group ${rule.slice(rule.indexOf(GROUP_RULE) + GROUP_RULE.length)}`;
    }
    case 'default-policy':
      return 'default policy';
    case 'anonymous-policy':
      return 'anonymous policy';
    case 'admin-policy':
      return 'admin';
    default:
      return decision.reason;
  }
}
