/**
 * Words for a refusal: what was refused, to whom, and by which rule. The
 * body itself is rendered by oci-error.ts; this only chooses status and text.
 * Anonymous refusals are 401 (credentials could help), named ones 403.
 */
import type { Identity } from '../identity/types.js';
import type { ImmutableMatch } from '../policy/immutable.js';
import type { Decision } from '../policy/types.js';
import type { Action } from '../registry/types.js';
import type { OciError } from './oci-error.js';

export interface Refused {
  readonly decision: Decision;
  /** e.g. `create in repository "app"`; what the identity may not do */
  readonly what: string;
  readonly action?: Action;
  readonly repository?: string;
  readonly tag?: string;
  readonly immutable?: ImmutableMatch;
}

export function refusal(identity: Identity, refused: Refused): OciError {
  const { decision, action, repository, tag, immutable } = refused;
  const detail = {
    ...(action !== undefined ? { action } : {}),
    ...(repository !== undefined ? { repository } : {}),
    ...(tag !== undefined ? { tag } : {}),
    ...(decision.pattern !== undefined ? { pattern: decision.pattern } : {}),
    ...(immutable !== undefined ? { rule: `immutableTags[${immutable.index}]` } : {}),
  };
  const message =
    decision.reason === 'tag-immutable' && tag !== undefined && repository !== undefined
      ? immutableMessage(tag, repository, immutable, action)
      : identity.kind === 'anonymous'
        ? `authentication required to ${refused.what}`
        : `user "${identity.name}" may not ${refused.what}`;
  return identity.kind === 'anonymous'
    ? { status: 401, code: 'UNAUTHORIZED', message, reason: decision.reason, detail }
    : { status: 403, code: 'DENIED', message, reason: decision.reason, detail };
}

function immutableMessage(tag: string, repository: string, immutable: ImmutableMatch | undefined, action: Action | undefined): string {
  const rule = immutable === undefined ? 'an immutableTags rule' : `immutableTags[${immutable.index}]`;
  return action === 'delete'
    ? `tag "${tag}" in repository "${repository}" is immutable (${rule}); only an admin may delete it`
    : `tag "${tag}" in repository "${repository}" is immutable (${rule}); it cannot be overwritten, push a new tag instead`;
}
