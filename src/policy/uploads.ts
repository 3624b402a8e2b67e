/** Upload sessions belong to the identity that opened them. */
import type { Decision, Principal } from './types.js';

/** The owner key a session is bound to: the user name, or `""` for anonymous. */
export function uploadOwnerOf(principal: Principal): string {
  return principal.name ?? '';
}

/**
 * An unknown session (never seen, expired, or opened before a restart) and
 * another identity's session look the same to the caller, so an upload URL
 * that leaked is worth nothing. To a named caller both are
 * `upload-not-owned` (404 BLOB_UPLOAD_UNKNOWN). A caller without credentials
 * may be the owner who has not sent them yet — clients of the token flow
 * send credentials only when challenged — so it gets
 * `authentication-required` (401 with a challenge), as every write does.
 */
export function decideUploadSession(owner: string | undefined, principal: Principal): Decision {
  if (owner !== undefined && owner === uploadOwnerOf(principal)) return { allow: true, reason: 'upload-owner' };
  return { allow: false, reason: principal.name === null ? 'authentication-required' : 'upload-not-owned' };
}
