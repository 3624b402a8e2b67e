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
export type Reason =
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

export interface Decision {
  readonly allow: boolean;
  readonly reason: Reason;
  /** the glob key whose group decided (`""` for the fallback group), when one did */
  readonly pattern?: string;
  /** the policy line that granted, e.g. `policies[0].groups: artifact-workloads`, or `adminPolicy.groups: admins` */
  readonly rule?: string;
}
