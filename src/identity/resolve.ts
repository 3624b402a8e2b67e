/**
 * Turns credentials into exactly one identity (README, "How clients prove who they are"). Bad
 * credentials are a failure, never a silent fall back to anonymous.
 */
import { decodeJwt } from 'jose';
import type { Credentials } from './credentials.js';
import { keyExpiry } from '../policy/api-key.js';
import { GATE_ISSUER, type GateTokens } from './gate-tokens.js';
import type { TrustedIssuerFailure } from './trusted-issuers.js';
import { ANONYMOUS, type ApiKeyRecord, type Identity } from './types.js';

export type LookupResult =
  | { readonly ok: true; readonly record: ApiKeyRecord; readonly groups: readonly string[] }
  | { readonly ok: false; readonly reason: 'unknown-key' | 'expired-key' | 'malformed-key' };

/** What resolution needs of the API-key store. */
export interface ApiKeyVerifier {
  lookup(key: string, now: Date, maxLifetimeMs: number | null): LookupResult;
  recordUse(id: string, now: Date): void | Promise<void>;
  /** the key behind a gate token, as it is now */
  keyById(id: string, now: Date, maxLifetimeMs: number | null): LookupResult;
}

/** JWTs from `auth.trustedIssuers` (keyless CI). */
export interface TrustedJwtVerifier {
  looksLikeJwt(token: string): boolean;
  verify(token: string): Promise<
    | { readonly ok: true; readonly identity: Identity; /** the JWT's `exp`, in ms since the epoch */ readonly expiresAt?: number }
    | { readonly ok: false; readonly reason: TrustedIssuerFailure; readonly detail?: string }
  >;
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
  | 'invalid-token'
  | 'expired-token'
  | 'revoked-key'
  | 'untrusted-token'
  /** a trusted issuer's keys cannot be fetched: not the client's fault (503) */
  | 'issuer-unavailable';

export type Resolution =
  /** `expiresAt`: when the credential stops being valid (a key's effective expiry, a JWT's exp); a gate token minted from it ends then at the latest */
  | { readonly ok: true; readonly identity: Identity; readonly expiresAt?: Date | null }
  | { readonly ok: false; readonly reason: AuthFailure; readonly detail?: string };

const API_KEY_PREFIX = 'zak_';

export interface ResolveDeps {
  readonly apiKeys: ApiKeyVerifier;
  readonly now: () => Date;
  /** `auth.apikey.maxLifetime`: applies to keys already made too, so lowering it takes effect */
  readonly maxKeyLifetimeMs?: number | null;
  /** the gate's own registry tokens, and the audience they are issued for */
  readonly gateTokens?: GateTokens;
  readonly service?: string;
  readonly trusted?: TrustedJwtVerifier;
}

export async function resolveIdentity(credentials: Credentials, deps: ResolveDeps): Promise<Resolution> {
  switch (credentials.kind) {
    case 'none':
      return { ok: true, identity: ANONYMOUS };
    case 'bearer':
      return resolveBearer(credentials.token, deps);
    case 'basic':
      if (credentials.password.startsWith(API_KEY_PREFIX)) return resolveApiKey(credentials.username, credentials.password, deps);
      // A trusted JWT is accepted as a Basic password with any username (CI tools only speak Basic).
      if (deps.trusted?.looksLikeJwt(credentials.password) === true) return resolveTrusted(credentials.password, deps.trusted);
      return { ok: false, reason: 'not-an-api-key' };
  }
}

function resolveApiKey(username: string, key: string, deps: ResolveDeps): Resolution {
  const now = deps.now();
  const max = deps.maxKeyLifetimeMs ?? null;
  const found = deps.apiKeys.lookup(key, now, max);
  if (!found.ok) return { ok: false, reason: found.reason };
  // zot binds a key to its owner: the username sent with it must be the owner's.
  if (found.record.owner !== username) return { ok: false, reason: 'username-mismatch' };
  void deps.apiKeys.recordUse(found.record.id, now);
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
    expiresAt: keyExpiry(found.record, max),
  };
}

async function resolveBearer(token: string, deps: ResolveDeps): Promise<Resolution> {
  let issuer: unknown;
  try {
    issuer = decodeJwt(token).iss;
  } catch {
    return { ok: false, reason: 'invalid-token' };
  }
  if (issuer === GATE_ISSUER) {
    if (deps.gateTokens === undefined || deps.service === undefined) return { ok: false, reason: 'invalid-token' };
    const now = deps.now();
    const max = deps.maxKeyLifetimeMs ?? null;
    const checked = await deps.gateTokens.verify(token, deps.service, now, (id) => deps.apiKeys.keyById(id, now, max));
    return checked.ok ? checked : { ok: false, reason: checked.reason };
  }
  if (deps.trusted === undefined) return { ok: false, reason: 'untrusted-token' };
  return resolveTrusted(token, deps.trusted);
}

async function resolveTrusted(token: string, trusted: TrustedJwtVerifier): Promise<Resolution> {
  const checked = await trusted.verify(token);
  if (checked.ok) return { ok: true, identity: checked.identity, ...(checked.expiresAt === undefined ? {} : { expiresAt: new Date(checked.expiresAt) }) };
  const detail = 'detail' in checked && typeof checked.detail === 'string' ? `${checked.reason}: ${checked.detail}` : checked.reason;
  return { ok: false, reason: checked.reason === 'issuer-unavailable' ? 'issuer-unavailable' : 'untrusted-token', detail };
}
