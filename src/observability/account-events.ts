/**
 * The audit events of a person's account: logins, logouts and API-key
 * changes, the same whether made through zot's API (`/zot/auth/apikey`), the
 * account page or zot's login paths. A key itself never appears: only its id.
 */
import type { ApiKeyRecord } from '../identity/types.js';
import type { Session } from '../sso/sessions.js';
import type { AuthLabel } from './metrics.js';
import type { AuditNote } from './observation.js';

export function loggedIn(user: string, groups: readonly string[], provider: string): AuditNote {
  return { event: 'login', identity: user, authMethod: 'session', decision: 'allow', reason: 'idp-login', detail: { provider, groups } };
}

/**
 * Why a login callback was refused: no login cookie, or an expired one, or one
 * for another provider or whose state is not the callback's (`login-expired`:
 * logged, never audited); a state already spent, or no longer
 * remembered (`login-state-reused`); the callback, code exchange or tokens
 * did not check out (`login-failed`); or the IdP's answer names nobody who
 * may sign in here ({@link IdentityRefusal}); or a good login could not be
 * stored (`login-not-stored`: the key store cannot be written, or a cookie
 * would not fit in a browser).
 */
export type LoginRefusal = 'login-expired' | 'login-state-reused' | 'login-failed' | 'login-not-stored' | IdentityRefusal;

/**
 * A login the IdP vouched for, refused for who it names: no username claim
 * (`username-claim-missing`), a username the username rule refuses
 * (`username-invalid`), an `email` username not verified
 * (`email-unverified`), a username bound to another IdP account
 * (`username-bound-to-another-subject`).
 */
export type IdentityRefusal = 'username-claim-missing' | 'username-invalid' | 'email-unverified' | 'username-bound-to-another-subject';

/** A login callback the gate refused. */
export function loginRefused(reason: LoginRefusal, provider: string): AuditNote {
  return { event: 'login', identity: null, authMethod: 'session', decision: 'deny', reason, detail: { provider } };
}

/**
 * A login refused for who it names: the account that tried (`issuer`,
 * `subject`), the username it mapped to (left out when the username rule
 * refused it: it is not fit to print) and, for a bound name, the account it is
 * bound to. Nobody signed in, so `identity` is null.
 */
export function loginIdentityRefused(
  reason: IdentityRefusal,
  provider: string,
  who: { readonly issuer: string; readonly subject: string; readonly username?: string; readonly boundTo?: { readonly issuer: string; readonly subject: string } },
): AuditNote {
  const { issuer, subject, username, boundTo } = who;
  const detail = { provider, ...(username === undefined ? {} : { username }), issuer, subject, ...(boundTo === undefined ? {} : { boundTo }) };
  return { event: 'login', identity: null, authMethod: 'session', decision: 'deny', reason, detail };
}

export function loggedOut(session: Pick<Session, 'user' | 'provider'>): AuditNote {
  return { event: 'logout', identity: session.user, authMethod: 'session', decision: 'allow', reason: 'logout', detail: { provider: session.provider } };
}

/** `parentId`: the key that made this one, or null (a session, the CLI). */
export function keyCreated(user: string, authMethod: AuthLabel, record: ApiKeyRecord): AuditNote {
  const { id: keyId, label, scopes, expiresAt } = record;
  const detail = { keyId, label, scopes, expiresAt, parentId: record.parentId ?? null };
  return { event: 'key-create', identity: user, authMethod, decision: 'allow', reason: 'apikey-created', detail };
}

/** `descendants`: the keys revoked with it, because it made them (or made their makers). */
export function keyRevoked(user: string, authMethod: AuthLabel, keyId: string, descendants: readonly string[] = []): AuditNote {
  return { event: 'key-revoke', identity: user, authMethod, decision: 'allow', reason: 'apikey-revoked', detail: { keyId, descendants } };
}
