/**
 * Words for a refusal: what was refused, to whom, and by which rule. The
 * body itself is rendered by oci-error.ts; this only chooses status and text.
 * Anonymous refusals are 401 (credentials could help), named ones 403.
 */
import type { AuthFailure } from '../identity/resolve.js';
import type { Identity } from '../identity/types.js';
import type { ImmutableMatch } from '../policy/immutable.js';
import type { CredentialReason, Decision } from '../policy/types.js';
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

/** Failures a client may be told precisely, with the words; any other is "invalid credentials". */
export const CLIENT_FACING: Partial<Record<AuthFailure, string>> = {
  'multiple-authorization': 'more than one Authorization header',
  'malformed-authorization': 'the Authorization header is malformed',
  'unsupported-scheme': 'only Basic and Bearer credentials are accepted',
};

/**
 * Credentials that were not accepted: 401, or 503 when a trusted issuer's
 * keys could not be fetched — the token may be good, and a 401 reads to
 * clients as a wrong password. `told` are the failures this endpoint names.
 */
export function credentialsRefused(failure: CredentialReason, told: Partial<Record<string, string>> = {}): OciError {
  if (failure === 'issuer-unavailable') {
    return { status: 503, code: 'UNAVAILABLE', message: 'the issuer of this token cannot be reached to check it; retry later', reason: failure };
  }
  const named = told[failure];
  return { status: 401, code: 'UNAUTHORIZED', message: named ?? 'invalid credentials', reason: named === undefined ? 'invalid-credentials' : failure };
}

function immutableMessage(tag: string, repository: string, immutable: ImmutableMatch | undefined, action: Action | undefined): string {
  const rule = immutable === undefined ? 'an immutableTags rule' : `immutableTags[${immutable.index}]`;
  return action === 'delete'
    ? `tag "${tag}" in repository "${repository}" is immutable (${rule}); only an admin may delete it`
    : `tag "${tag}" in repository "${repository}" is immutable (${rule}); it cannot be overwritten, push a new tag instead`;
}
