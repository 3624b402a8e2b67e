/** Upload sessions belong to the identity that opened them. */
import type { Decision, Principal } from './types.js';

/** The owner key a session is bound to: the user name, or `""` for anonymous. */
export function uploadOwnerOf(principal: Principal): string {
  return principal.name ?? '';
}

/**
 * An unknown session (never seen, expired, or opened before a restart) and
 * another identity's session look the same to the caller: 404
 * BLOB_UPLOAD_UNKNOWN, so an upload URL that leaked is worth nothing.
 */
export function decideUploadSession(owner: string | undefined, principal: Principal): Decision {
  return owner !== undefined && owner === uploadOwnerOf(principal)
    ? { allow: true, reason: 'upload-owner' }
    : { allow: false, reason: 'upload-not-owned' };
}
