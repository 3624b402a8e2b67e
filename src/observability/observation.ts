/**
 * What the gate learned about one request while answering it — route,
 * identity, decision, refusal — noted where it is learned and read once, when
 * the response goes out, by the metrics and the audit trail
 * (request-observer.ts). Call sites note facts; they never count or audit.
 */
import type { FastifyRequest } from 'fastify';
import type { AuthFailure } from '../identity/resolve.js';
import type { Identity } from '../identity/types.js';
import type { CredentialReason, Reason } from '../policy/types.js';
import type { ParsedRequest } from '../registry/types.js';
import type { AuditEventKind } from './audit.js';
import type { AuthLabel, DecisionAction } from './metrics.js';

export interface NotedDecision {
  readonly action: DecisionAction;
  readonly allow: boolean;
  readonly reason: Reason;
}

/** An audit event a handler states outright (login, logout, key changes). */
export interface AuditNote {
  readonly event: AuditEventKind;
  readonly identity: string | null;
  readonly authMethod: AuthLabel;
  readonly decision: 'allow' | 'deny';
  readonly reason: Reason;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface Observation {
  /** the client's address, read when the request arrived */
  client?: string;
  /** the registry request the gate hook parsed, or `invalid` when the target did not parse */
  registry?: ParsedRequest | 'invalid';
  identity?: Identity;
  /** set whenever credentials were looked at, refused or not */
  authMethod?: AuthLabel;
  authFailure?: CredentialReason;
  /** the last decision made wins: a later, fuller check overrides the hook's first one */
  decision?: NotedDecision;
  /** an error the gate itself rendered (oci-error.ts) */
  error?: { readonly status: number; readonly reason: Reason };
  /** a manifest PUT's body digest */
  digest?: string;
  detail?: Readonly<Record<string, unknown>>;
  audit?: AuditNote;
}

declare module 'fastify' {
  interface FastifyRequest {
    observation?: Observation;
  }
}

/** The request's observation, begun on first use. */
export function observationOf(request: FastifyRequest): Observation {
  return (request.observation ??= {});
}

export function noteRegistry(request: FastifyRequest, parsed: ParsedRequest | 'invalid'): void {
  observationOf(request).registry = parsed;
}

export function noteIdentity(request: FastifyRequest, identity: Identity): void {
  const observation = observationOf(request);
  observation.identity = identity;
  observation.authMethod = identity.kind === 'anonymous' ? 'anonymous' : identity.method;
}

export function noteAuthFailure(request: FastifyRequest, failure: AuthFailure | 'bearer-at-token-endpoint'): void {
  const observation = observationOf(request);
  observation.authMethod = FAILED_METHOD[failure];
  observation.authFailure = failure;
}

export function noteDecision(request: FastifyRequest, action: DecisionAction, decision: { readonly allow: boolean; readonly reason: Reason }): void {
  observationOf(request).decision = { action, allow: decision.allow, reason: decision.reason };
}

/** Called by sendOciError for every error the gate renders; its 401s and 403s are refusals. */
export function noteError(request: FastifyRequest, error: { readonly status: number; readonly reason: Reason }): void {
  observationOf(request).error = { status: error.status, reason: error.reason };
}

export function noteDigest(request: FastifyRequest, digest: string): void {
  observationOf(request).digest = digest;
}

/** Adds to the audit event's `detail` (merged with what is there). */
export function noteDetail(request: FastifyRequest, detail: Readonly<Record<string, unknown>>): void {
  const observation = observationOf(request);
  observation.detail = { ...observation.detail, ...detail };
}

/** States the request's audit event outright; it replaces whatever would be derived. */
export function noteAudit(request: FastifyRequest, note: AuditNote): void {
  observationOf(request).audit = note;
}

/** The method a refused credential was trying, so failures count under it; `unknown` when it could not be told. */
const FAILED_METHOD: Readonly<Record<AuthFailure | 'bearer-at-token-endpoint', AuthLabel>> = {
  'multiple-authorization': 'unknown',
  'malformed-authorization': 'unknown',
  'unsupported-scheme': 'unknown',
  'unknown-key': 'apikey',
  'expired-key': 'apikey',
  'malformed-key': 'apikey',
  'username-mismatch': 'apikey',
  // Basic with a password that is neither a key nor a trusted JWT: the gate's Basic means API keys
  'not-an-api-key': 'apikey',
  'invalid-token': 'token',
  'expired-token': 'token',
  'revoked-key': 'token',
  'untrusted-token': 'jwt',
  'issuer-unavailable': 'jwt',
  'bearer-at-token-endpoint': 'token',
};
