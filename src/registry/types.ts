/**
 * The registry vocabulary shared by the pure core: what a request addresses
 * (RegistryRoute) and what it needs before it may be forwarded (Requirement).
 * Nothing here performs I/O.
 */
import type { RequestReason } from '../policy/types.js';

/** zot's four repository actions. */
export type Action = 'read' | 'create' | 'update' | 'delete';

export type Reference =
  | { readonly kind: 'tag'; readonly tag: string }
  | { readonly kind: 'digest'; readonly digest: string };

/** A request path, parsed and validated against the OCI grammar. */
export type RegistryRoute =
  /** `/v2/` */
  | { readonly kind: 'base' }
  /** `/v2/_catalog` */
  | { readonly kind: 'catalog' }
  /** `/v2/<name>/manifests/<reference>` */
  | { readonly kind: 'manifest'; readonly name: string; readonly reference: Reference }
  /** `/v2/<name>/blobs/<digest>` */
  | { readonly kind: 'blob'; readonly name: string; readonly digest: string }
  /** `/v2/<name>/blobs/uploads/` (the trailing slash is the spec's form) */
  | { readonly kind: 'upload-start'; readonly name: string }
  /** `/v2/<name>/blobs/uploads/<session>` */
  | { readonly kind: 'upload'; readonly name: string; readonly session: string }
  /** `/v2/<name>/tags/list` */
  | { readonly kind: 'tags'; readonly name: string }
  /** `/v2/<name>/referrers/<digest>` */
  | { readonly kind: 'referrers'; readonly name: string; readonly digest: string }
  /** `/v2/_zot/ext/<extension>[/…]` and `/v2/_oci/ext/<extension>` */
  | { readonly kind: 'extension'; readonly extension: string }
  /** zot's Prometheus endpoint, `/metrics` */
  | { readonly kind: 'metrics' }
  /** anything else under `/v2/`: never forwarded */
  | { readonly kind: 'unknown' }
  /** a path outside `/v2/` (zot's UI and its assets) */
  | { readonly kind: 'ui' };

/** The OCI error codes a malformed request can earn (dist-spec "Error Codes"). */
export type InvalidCode = 'NAME_INVALID' | 'TAG_INVALID' | 'DIGEST_INVALID' | 'MANIFEST_INVALID' | 'MANIFEST_UNKNOWN' | 'UNSUPPORTED';

/** A rejected request, never forwarded, always with an operator-readable reason. */
export interface Invalid {
  /**
   * 400 when absent. 404: a read of a manifest reference that is neither a
   * tag nor a digest (zot's answer), or a path under the gate's own `/-/`;
   * 414: a manifest PUT naming more tags than zot accepts.
   */
  readonly status?: 404 | 414;
  readonly code: InvalidCode;
  readonly message: string;
  /** kebab-case, e.g. `dot-segment`, `name-grammar` */
  readonly reason: RequestReason;
}

/**
 * A parsed request: the route, plus the exact path and query that may be sent
 * upstream. Only validated, canonical text is ever forwarded; unknown query
 * parameters are dropped.
 */
export interface ParsedRequest {
  readonly route: RegistryRoute;
  /** Path and query to forward, e.g. `/v2/app/blobs/uploads/?digest=sha256%3A…` */
  readonly upstreamUrl: string;
  /** Query parameters kept, in order, decoded (repeatable keys such as `tag` appear once each). */
  readonly query: ReadonlyArray<readonly [string, string]>;
  /**
   * True when the client asked for a blob mount without `from` and `mount`
   * was dropped, so a normal upload starts instead. dist-spec v1.1 lets a
   * registry mount from any repository when `from` is absent; the gate cannot
   * authorise a source it does not know (docs/deploying.md: dedupe off).
   */
  readonly mountDropped?: boolean;
}

export type ParseResult =
  | { readonly ok: true; readonly request: ParsedRequest }
  | { readonly ok: false; readonly invalid: Invalid };

/** One repository permission the request needs. */
export interface RepositoryCheck {
  readonly repository: string;
  readonly action: Action;
}

/** What a request needs before it may be forwarded. */
export type Requirement =
  /** nothing: zot UI assets, `/v2/_zot/ext/mgmt` */
  | { readonly kind: 'none' }
  /** `/v2/`: answered by the gate from the identity alone */
  | { readonly kind: 'base' }
  /** every check must be allowed */
  | { readonly kind: 'repository'; readonly checks: readonly RepositoryCheck[] }
  /**
   * Manifest PUT naming tags: each tag needs `create` when new and `update`
   * when it exists, which only the upstream can say at PUT time. `create` on
   * the repository is always needed.
   */
  | { readonly kind: 'tag-write'; readonly repository: string; readonly tags: readonly string[] }
  /** `_catalog`: any identity; the answer is filtered to readable repositories */
  | { readonly kind: 'catalog' }
  /** zot's `/metrics` under `accessControl.metrics` */
  | { readonly kind: 'metrics' }
  /** `read` on every repository (zot search cannot be filtered per user behind the gate) */
  | { readonly kind: 'read-all' }
  /** an admin identity holding the action */
  | { readonly kind: 'admin'; readonly action: Action }
  /** refused whatever the identity: a method the route does not have, an unknown route */
  | { readonly kind: 'refused'; readonly status: 403 | 405; readonly reason: 'unknown-route' | 'method-not-allowed'; readonly message: string };
