/**
 * Identity vocabulary: who a request is, and the stored API-key records that
 * can make it someone.
 */

/** How a named identity proved itself. */
export type AuthMethod = 'apikey' | 'session' | 'token' | 'jwt';

/** Exactly one identity per request (README, "How clients prove who they are"). */
export type Identity =
  | { readonly kind: 'anonymous' }
  | {
      readonly kind: 'user';
      readonly name: string;
      readonly groups: readonly string[];
      readonly method: AuthMethod;
      /** the API key's id, when method is `apikey` */
      readonly keyId?: string;
      /** repository globs an API key is limited to */
      readonly scopes?: readonly string[];
    };

export const ANONYMOUS: Identity = Object.freeze({ kind: 'anonymous' });

/** One API key as stored: never the key itself, only its SHA-256. */
export interface ApiKeyRecord {
  /** UUID, zot's `uuid` */
  readonly id: string;
  /** lowercase hex SHA-256 of the full `zak_…` key */
  readonly hash: string;
  readonly owner: string;
  readonly label: string;
  /** ISO-8601 */
  readonly createdAt: string;
  /** ISO-8601, or null for no expiry (bounded by auth.apikey.maxLifetime when set) */
  readonly expiresAt: string | null;
  /** ISO-8601 of the last successful use, or null */
  readonly lastUsedAt: string | null;
  /** repository globs; empty = unrestricted */
  readonly scopes: readonly string[];
  /**
   * The key that minted this one through zot's API, absent for keys made by a
   * person (a session) or the operator (the CLI). Revoking a key revokes every
   * key below it. Optional on disk: files written before it read as before.
   */
  readonly parentId?: string;
}

/** The groups a user's keys carry: set by their latest login, or by `apikey create --groups`. */
export interface UserRecord {
  readonly name: string;
  readonly groups: readonly string[];
  /** ISO-8601 of when the groups were last set */
  readonly updatedAt: string;
  /**
   * The IdP account the name belongs to (policy/subject-binding.ts): set by
   * the first SSO login with the name, or to the local subject when the
   * operator sets its groups (`apikey create --groups`: a service account);
   * removed only by `zot-gate user release`. Absent for names nobody signed
   * in with since bindings were recorded (files from before read as such).
   */
  readonly boundTo?: UserBinding;
}

/** A username's IdP account: the ID token's `iss` and `sub`, and when they were bound. */
export interface UserBinding {
  readonly issuer: string;
  readonly subject: string;
  /** ISO-8601 */
  readonly boundAt: string;
}
