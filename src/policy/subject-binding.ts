/**
 * Which IdP account a username belongs to. A username is bound to the
 * subject (the ID token's `iss` and `sub`, OIDC Core §2: together they are
 * the one stable identifier of an account) that first signed in with it; a
 * later login that maps to the same username from any other subject is
 * refused, whatever the IdP says about it. Claims such as `email` or
 * `preferred_username` are often editable by the user at the IdP; `sub`
 * never changes and is never reassigned. Only the operator releases a
 * binding (`zot-gate user release`). Pure: the stored binding and the login
 * go in, the decision comes out.
 *
 * A service account (a name whose groups the operator set with `apikey
 * create --groups`) is bound to the local subject, which no IdP presents:
 * an SSO login that maps to its name is refused as from another account.
 */

/** An account at an IdP: its issuer and its subject there. */
export interface Subject {
  readonly issuer: string;
  readonly subject: string;
}

export type BindingDecision =
  /** the username was bound to no one: this login binds it */
  | { readonly allow: true; readonly bind: true }
  /** the username is bound to this very subject */
  | { readonly allow: true; readonly bind: false }
  | { readonly allow: false; readonly reason: 'username-bound-to-another-subject'; readonly boundTo: Subject };

/** The issuer of the local subject: not a URL, so no IdP or trusted issuer (https, or http on loopback) can present it. */
export const LOCAL_ISSUER = 'zot-gate:local';

/** The subject a service account is bound to: its own name, at no IdP. */
export function localSubject(name: string): Subject {
  return { issuer: LOCAL_ISSUER, subject: name };
}

/** Whether a binding is a service account's. */
export function isLocalSubject(subject: Subject): boolean {
  return subject.issuer === LOCAL_ISSUER;
}

/** May `presented` sign in as a username bound to `bound` (or to nobody)? */
export function bindingDecision(bound: Subject | null, presented: Subject): BindingDecision {
  if (bound === null) return { allow: true, bind: true };
  if (bound.issuer === presented.issuer && bound.subject === presented.subject) return { allow: true, bind: false };
  return { allow: false, reason: 'username-bound-to-another-subject', boundTo: { issuer: bound.issuer, subject: bound.subject } };
}
