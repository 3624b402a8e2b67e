/**
 * Turns credentials into exactly one identity (DESIGN.md "Identity"). Bad
 * credentials are a failure, never a silent fall back to anonymous.
 */
import type { Credentials } from './credentials.js';
import { ANONYMOUS, type ApiKeyRecord, type Identity } from './types.js';

export type LookupResult =
  | { readonly ok: true; readonly record: ApiKeyRecord; readonly groups: readonly string[] }
  | { readonly ok: false; readonly reason: 'unknown-key' | 'expired-key' | 'malformed-key' };

/** What resolution needs of the API-key store. */
export interface ApiKeyVerifier {
  lookup(key: string, now: Date): LookupResult;
  recordUse(id: string, now: Date): void;
}

/** Why credentials were refused; logged and counted, never shown to the client in detail. */
export type AuthFailure =
  | 'multiple-authorization'
  | 'malformed-authorization'
  | 'unsupported-scheme'
  | 'unknown-key'
  | 'expired-key'
  | 'malformed-key'
  | 'username-mismatch'
  | 'not-an-api-key'
  | 'unsupported-token';

export type Resolution =
  | { readonly ok: true; readonly identity: Identity }
  | { readonly ok: false; readonly reason: AuthFailure };

const API_KEY_PREFIX = 'zak_';

export interface ResolveDeps {
  readonly apiKeys: ApiKeyVerifier;
  readonly now: () => Date;
  /** `auth.apikey.maxLifetime`: applies to keys already made too, so lowering it takes effect */
  readonly maxKeyLifetimeMs?: number | null;
}

export function resolveIdentity(credentials: Credentials, deps: ResolveDeps): Resolution {
  switch (credentials.kind) {
    case 'none':
      return { ok: true, identity: ANONYMOUS };
    case 'bearer':
      // Gate-issued tokens and trusted-issuer JWTs arrive with the token flow.
      return { ok: false, reason: 'unsupported-token' };
    case 'basic':
      return resolveBasic(credentials.username, credentials.password, deps);
  }
}

function resolveBasic(username: string, password: string, deps: ResolveDeps): Resolution {
  if (!password.startsWith(API_KEY_PREFIX)) return { ok: false, reason: 'not-an-api-key' };
  const now = deps.now();
  const found = deps.apiKeys.lookup(password, now);
  if (!found.ok) return { ok: false, reason: found.reason };
  const max = deps.maxKeyLifetimeMs ?? null;
  if (max !== null && Date.parse(found.record.createdAt) + max <= now.getTime()) return { ok: false, reason: 'expired-key' };
  // zot binds a key to its owner: the username sent with it must be the owner's.
  if (found.record.owner !== username) return { ok: false, reason: 'username-mismatch' };
  deps.apiKeys.recordUse(found.record.id, now);
  return {
    ok: true,
    identity: {
      kind: 'user',
      name: found.record.owner,
      groups: found.groups,
      method: 'apikey',
      keyId: found.record.id,
      ...(found.record.scopes.length > 0 ? { scopes: found.record.scopes } : {}),
    },
  };
}
