/**
 * Policy vocabulary: zot's `accessControl` block, verbatim, and the decisions
 * made from it. Field names and meanings are zot's (pkg/api/config).
 */
import type { Action } from '../registry/types.js';

export type { Action };

/** One entry of a repository group's `policies`. */
export interface Policy {
  readonly users?: readonly string[];
  readonly groups?: readonly string[];
  readonly actions: readonly string[];
}

/** The value under one glob key of `accessControl.repositories`. */
export interface PolicyGroup {
  readonly policies?: readonly Policy[];
  readonly defaultPolicy?: readonly string[];
  readonly anonymousPolicy?: readonly string[];
}

/** zot's `accessControl` block. */
export interface AccessControl {
  readonly repositories: Readonly<Record<string, PolicyGroup>>;
  readonly adminPolicy?: Policy;
  /** zot's static groups: group name → members, merged with the identity's own groups */
  readonly groups?: Readonly<Record<string, { readonly users?: readonly string[] }>>;
  readonly metrics?: { readonly users?: readonly string[]; readonly anonymousPolicy?: readonly string[] };
}

/** One `immutableTags` rule. */
export interface ImmutableTagRule {
  readonly repositories: readonly string[];
  readonly tags: readonly string[];
  readonly except?: readonly string[];
}

/**
 * Who is asking, as policy sees it. `name: null` is the anonymous user.
 * `scopes`, when present, are repository globs an API key is limited to:
 * outside them the key is worth exactly what an anonymous request is. An
 * empty list limits nothing (the key store's convention).
 */
export interface Principal {
  readonly name: string | null;
  readonly groups: readonly string[];
  readonly scopes?: readonly string[];
}

/** Why a decision came out as it did; kebab-case, reused in logs, metrics and error bodies. */
export type DecisionReason =
  | 'user-policy'
  | 'group-policy'
  | 'default-policy'
  | 'anonymous-policy'
  | 'admin-policy'
  | 'metrics-anonymous'
  | 'metrics-user'
  | 'no-matching-pattern'
  | 'action-not-granted'
  | 'key-scope'
  | 'metrics-not-granted'
  | 'read-all-required'
  | 'admin-required'
  /** `/v2/`: a named identity, or zot's UI as a guest where anonymous reads exist */
  | 'base-allowed'
  /** `/v2/`, or another's upload session, without credentials: a challenge, so clients send the credentials they hold */
  | 'authentication-required'
  /** the upload session was opened by this identity */
  | 'upload-owner'
  /** the upload session is unknown or another identity's */
  | 'upload-not-owned'
  /** an `immutableTags` rule forbids overwriting (or, for non-admins, deleting) the tag */
  | 'tag-immutable';

/** Why a request was refused before any decision: its target, method or query (registry/). */
export type RequestReason =
  | 'undecodable-target'
  | 'not-origin-form'
  | 'control-character'
  | 'non-ascii'
  | 'percent-encoded'
  | 'nested-percent-encoding'
  | 'backslash'
  | 'path-parameter'
  | 'dot-segment'
  | 'empty-segment'
  | 'reserved-path'
  /** a path under the gate's own `/-/` that it does not serve */
  | 'gate-path-unknown'
  | 'name-too-long'
  | 'name-grammar'
  | 'tag-grammar'
  | 'reference-grammar'
  | 'digest-grammar'
  | 'digest-algorithm'
  | 'session-grammar'
  | 'page-size'
  | 'repeated-parameter'
  /** a Host header that is no host and port (host-header.ts) */
  | 'host-invalid'
  /** a manifest PUT naming more tags than zot accepts */
  | 'too-many-tags'
  | 'unknown-route'
  | 'method-not-allowed';

/** Why the HTTP exchange itself was refused: its size, type, framing or pace. */
export type TransportReason =
  | 'malformed-request'
  | 'headers-too-large'
  | 'headers-timeout'
  | 'body-timeout'
  | 'body-too-large'
  | 'manifest-too-large'
  | 'unsupported-media-type'
  | 'malformed-json'
  | 'malformed-body'
  /** any other 4xx the HTTP layer raised without a reason of its own */
  | 'bad-request';

/** Why presented credentials (or a browser session) do not authenticate (identity/). */
export type CredentialReason =
  | 'malformed-authorization'
  | 'multiple-authorization'
  | 'unsupported-scheme'
  | 'not-an-api-key'
  | 'malformed-key'
  | 'unknown-key'
  | 'expired-key'
  | 'revoked-key'
  | 'username-mismatch'
  | 'invalid-token'
  | 'expired-token'
  | 'untrusted-token'
  | 'untrusted-issuer'
  | 'token-without-iat'
  | 'token-issued-in-future'
  | 'token-too-old'
  | 'missing-scope'
  | 'missing-claim'
  /** the token may be good: its issuer's keys could not be fetched to check it (a 503) */
  | 'issuer-unavailable'
  /** what a client is told for most of the above (the log keeps the precise one) */
  | 'invalid-credentials'
  /** a token sent to the token endpoint, which takes only what a token is made from */
  | 'bearer-at-token-endpoint'
  | 'session-without-id'
  | 'session-revoked'
  /** repeated failures locked the client's address, or the username, for a while (throttle.ts) */
  | 'address-locked'
  | 'username-locked';

/** Why a sign-in, or a browser form, was refused (sso/). */
export type LoginReason =
  | 'login-expired'
  | 'login-state-reused'
  | 'login-failed'
  | 'login-not-stored'
  /** one address has too many sign-ins under way (login-starts.ts) */
  | 'too-many-logins'
  | 'username-claim-missing'
  | 'username-invalid'
  | 'email-unverified'
  | 'username-bound-to-another-subject'
  | 'cookie-too-large'
  | 'oauth-form-unsupported'
  | 'foreign-form'
  | 'cross-origin-request';

/** Why a new API key was refused (api-key.ts), or a request to zot's key API was malformed. */
export type KeyReason =
  | 'label-invalid'
  | 'scope-invalid'
  | 'scope-count'
  | 'scope-not-covered'
  | 'expiration-malformed'
  | 'expiration-past'
  | 'expiration-beyond-max-lifetime'
  | 'expiration-beyond-caller-key'
  | 'malformed-payload'
  | 'malformed-query';

/** Something the gate depends on failed: the answer is a 5xx, never a decision. */
export type FailureReason =
  | 'upstream-error'
  | 'upstream-unreachable'
  | 'upstream-timeout'
  | 'tag-state-unknown'
  | 'key-store-unwritable'
  | 'key-store-unreadable'
  | 'key-store-busy'
  | 'revocation-store-unwritable'
  | 'revocation-store-unreadable'
  | 'revocation-store-busy'
  | 'revocation-store-full'
  | 'internal-error';

/** What an allowed request that the gate answered or changed itself did. */
export type OutcomeReason =
  | 'identical-repush'
  | 'catalog-filtered'
  | 'mgmt'
  | 'token-issued'
  | 'anonymous-token'
  | 'idp-login'
  | 'logout'
  | 'apikey-created'
  | 'apikey-revoked'
  | 'username-released';

/**
 * Every reason the gate gives: the `detail.reason` of an OCI error, the
 * `reason` of a log line, an audit event and the decisions metric's label.
 * Kebab-case; one word per cause, wherever it is decided.
 */
export type Reason = DecisionReason | RequestReason | TransportReason | CredentialReason | LoginReason | KeyReason | FailureReason | OutcomeReason;

export interface Decision {
  readonly allow: boolean;
  readonly reason: DecisionReason;
  /** the glob key whose group decided (`""` for the fallback group), when one did */
  readonly pattern?: string;
  /** the policy line that granted, e.g. `policies[0].groups: artifact-workloads`, or `adminPolicy.groups: admins` */
  readonly rule?: string;
}
