/**
 * The Docker token-flow scope a request needs, for the `scope` of a Bearer
 * challenge (distribution's token spec: `repository:<name>:<actions>`).
 * Clients ask the token endpoint for it; the gate's tokens carry identity
 * only, and policy decides every request anyway.
 */
import type { Action, Requirement } from './types.js';

const DOCKER_ACTIONS: Record<Action, string> = { read: 'pull', create: 'pull,push', update: 'pull,push', delete: 'delete' };

export function scopeOf(requirement: Requirement): string | undefined {
  const byRepository = new Map<string, Set<string>>();
  const add = (repository: string, action: Action) => {
    const set = byRepository.get(repository) ?? new Set<string>();
    for (const a of DOCKER_ACTIONS[action].split(',')) set.add(a);
    byRepository.set(repository, set);
  };
  if (requirement.kind === 'repository') for (const check of requirement.checks) add(check.repository, check.action);
  else if (requirement.kind === 'tag-write') add(requirement.repository, 'create');
  else if (requirement.kind === 'catalog') return 'registry:catalog:*';
  if (byRepository.size === 0) return undefined;
  return [...byRepository].map(([repository, actions]) => `repository:${repository}:${[...actions].join(',')}`).join(' ');
}
