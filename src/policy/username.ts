/**
 * The one rule for a username, wherever one comes in: an IdP's claim at
 * login (or in a trusted JWT), `zot-gate apikey create --user`. Usernames
 * are printed by the command line to an operator's terminal (`apikey list`,
 * `user list`) and written to logs, so, as for key labels
 * (policy/api-key.ts), none of the characters a terminal or a page would
 * act on rather than show. Unlike a label a username is not trimmed: it is
 * a name the policies match exactly, and the IdP's, not ours to change.
 */
import { CONTROL_CHARACTERS } from './api-key.js';

/** Longer than any email address (254) or IdP username in use; a bound on what is stored and printed. */
const MAX_USERNAME_LENGTH = 256;

export type UsernameCheck =
  | { readonly ok: true; readonly username: string }
  | { readonly ok: false; readonly reason: 'username-invalid'; readonly problem: string };

/** The username as given, or the problem in words each caller frames. */
export function checkUsername(text: string): UsernameCheck {
  if (CONTROL_CHARACTERS.test(text)) return { ok: false, reason: 'username-invalid', problem: 'control characters are not allowed' };
  if (text.trim() === '' || text.length > MAX_USERNAME_LENGTH) {
    return { ok: false, reason: 'username-invalid', problem: `a username is 1 to ${MAX_USERNAME_LENGTH} characters, not only spaces` };
  }
  return { ok: true, username: text };
}
