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
 * for another provider (`login-expired`); a state already spent, or no longer
 * remembered (`login-state-reused`); the callback, code exchange or tokens
 * did not check out (`login-failed`); the IdP named nobody (`username-claim-missing`).
 */
export type LoginRefusal = 'login-expired' | 'login-state-reused' | 'login-failed' | 'username-claim-missing';

/** A login callback the gate refused. */
export function loginRefused(reason: LoginRefusal, provider: string): AuditNote {
  return { event: 'login', identity: null, authMethod: 'session', decision: 'deny', reason, detail: { provider } };
}

export function loggedOut(session: Session): AuditNote {
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
