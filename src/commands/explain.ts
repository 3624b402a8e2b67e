/** `zot-gate explain`: the decision and the rule that made it, for an operator. */
import { explain } from '../policy/explain.js';
import { checkUsername } from '../policy/username.js';
import type { Action } from '../registry/types.js';
import { configFrom, list, parse, required, UsageError } from './usage.js';

const ACTIONS: readonly Action[] = ['read', 'create', 'update', 'delete'];

export function explainCommand(args: string[], out: (line: string) => void): number {
  const values = parse(args, {
    user: { type: 'string' },
    groups: { type: 'string' },
    repo: { type: 'string' },
    action: { type: 'string' },
    tag: { type: 'string' },
  });
  const action = required(values.action, 'action') as Action;
  if (!ACTIONS.includes(action)) throw new UsageError(`--action must be one of ${ACTIONS.join(', ')}`);
  const repository = required(values.repo, 'repo');
  if (values.user === undefined && values.groups !== undefined) throw new UsageError('--groups needs --user (anonymous users have no groups)');
  // No user has such a name (logins refuse it), and the answer would echo it to the terminal.
  const user = typeof values.user === 'string' ? checkUsername(values.user) : null;
  if (user !== null && !user.ok) throw new UsageError(`--user: ${user.problem}`);
  const config = configFrom(values);
  const result = explain({
    ac: config.accessControl,
    immutableTags: config.immutableTags,
    principal: { name: typeof values.user === 'string' ? values.user : null, groups: list(values.groups) },
    repository,
    action,
    ...(typeof values.tag === 'string' ? { tag: values.tag } : {}),
  });
  for (const line of result.lines) out(line);
  return 0;
}
