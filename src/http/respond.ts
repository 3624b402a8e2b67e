/**
 * What the client sees when the gate does not forward: every outcome — a
 * policy verdict, a write or delete verdict, a key grant, refused
 * credentials, a guard's or the upstream's failure — turned into a status, an
 * OCI code and words. The pure core decides (policy/); the guards (proxy/)
 * return outcomes; this file words them; oci-error.ts `sendOciError` writes
 * the body and the challenge. Anonymous refusals are 401 (credentials could
 * help), named ones 403.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isGateError, type OciError } from '../errors.js';
import type { AuthFailure } from '../identity/resolve.js';
import type { Identity } from '../identity/types.js';
import type { KeyGrant, KeyGrantReason } from '../policy/api-key.js';
import type { Verdict } from '../policy/authorize.js';
import type { ImmutableMatch } from '../policy/immutable.js';
import type { WriteVerdict } from '../policy/manifest-write.js';
import type { ThrottleScope } from '../policy/throttle.js';
import type { CredentialReason, Decision, KeyReason, Reason, TransportReason } from '../policy/types.js';
import type { Action, Invalid, Requirement } from '../registry/types.js';
import type { GuardFailure, GuardStop } from '../proxy/manifest-guard.js';
import { errorCode, failureKind } from '../proxy/upstream.js';
import { sendOciError } from './oci-error.js';

export interface Refused {
  readonly decision: Decision;
  /** e.g. `create in repository "app"`; what the identity may not do */
  readonly what: string;
  readonly action?: Action;
  readonly repository?: string;
  readonly tag?: string;
  readonly immutable?: ImmutableMatch;
}

export function refusal(identity: Identity, refused: Refused): OciError {
  const { decision, action, repository, tag, immutable } = refused;
  const detail = {
    ...(action !== undefined ? { action } : {}),
    ...(repository !== undefined ? { repository } : {}),
    ...(tag !== undefined ? { tag } : {}),
    ...(decision.pattern !== undefined ? { pattern: decision.pattern } : {}),
    ...(immutable !== undefined ? { rule: `immutableTags[${immutable.index}]` } : {}),
  };
  const message =
    decision.reason === 'tag-immutable' && tag !== undefined && repository !== undefined
      ? immutableMessage(tag, repository, immutable, action)
      : identity.kind === 'anonymous'
        ? `authentication required to ${refused.what}`
        : `user "${identity.name}" may not ${refused.what}`;
  return identity.kind === 'anonymous'
    ? { status: 401, code: 'UNAUTHORIZED', message, reason: decision.reason, detail }
    : { status: 403, code: 'DENIED', message, reason: decision.reason, detail };
}

/** Failures a client may be told precisely, with the words; any other is "invalid credentials". */
export const CLIENT_FACING: Partial<Record<AuthFailure, string>> = {
  'multiple-authorization': 'more than one Authorization header',
  'malformed-authorization': 'the Authorization header is malformed',
  'unsupported-scheme': 'only Basic and Bearer credentials are accepted',
};

/**
 * Credentials that were not accepted: 401, or 503 when a trusted issuer's
 * keys could not be fetched — the token may be good, and a 401 reads to
 * clients as a wrong password. `told` are the failures this endpoint names.
 */
export function credentialsRefused(failure: CredentialReason, told: Partial<Record<string, string>> = {}): OciError {
  if (failure === 'issuer-unavailable') {
    return { status: 503, code: 'UNAVAILABLE', message: 'the issuer of this token cannot be reached to check it; retry later', reason: failure };
  }
  const named = told[failure];
  return { status: 401, code: 'UNAUTHORIZED', message: named ?? 'invalid credentials', reason: named === undefined ? 'invalid-credentials' : failure };
}

function immutableMessage(tag: string, repository: string, immutable: ImmutableMatch | undefined, action: Action | undefined): string {
  const rule = immutable === undefined ? 'an immutableTags rule' : `immutableTags[${immutable.index}]`;
  return action === 'delete'
    ? `tag "${tag}" in repository "${repository}" is immutable (${rule}); only an admin may delete it`
    : `tag "${tag}" in repository "${repository}" is immutable (${rule}); it cannot be overwritten, push a new tag instead`;
}

/** Requirements the policy decides alone (policy/authorize.ts); their refusals are worded by `verdictRefused`. */
export type Decidable = Extract<Requirement, { kind: 'repository' | 'metrics' | 'read-all' | 'admin' }>;

/** A refused `authorize` verdict, in words. A tag's state is never decided there: manifest PUTs go to their guard. */
export function verdictRefused(identity: Identity, verdict: Verdict, requirement: Decidable): OciError {
  const { check } = verdict;
  const what =
    check !== undefined
      ? `${check.action} in repository "${check.repository}"`
      : requirement.kind === 'metrics'
        ? 'read metrics'
        : requirement.kind === 'read-all'
          ? 'use search, which needs read on every repository'
          : `${requirement.kind === 'admin' ? requirement.action : 'do this'} (admins only)`;
  return refusal(identity, { decision: verdict.decision, what, ...(check ?? {}) });
}

/** A refused manifest write or delete (policy/manifest-write.ts), in words: an overwrite names its tag. */
export function writeRefused(identity: Identity, verdict: WriteVerdict): OciError {
  const what =
    verdict.action === 'update' && verdict.tag !== undefined
      ? `overwrite tag "${verdict.tag}" in repository "${verdict.repository}" (needs update)`
      : `${verdict.action} in repository "${verdict.repository}"`;
  return refusal(identity, { ...verdict, what });
}

// A caller's limits go to 403: the request is sound, this caller may not make it.
const KEY_GRANT_STATUS: Record<KeyGrantReason, 400 | 403> = {
  'scope-count': 400,
  'scope-invalid': 400,
  'expiration-malformed': 400,
  'expiration-past': 400,
  'expiration-beyond-max-lifetime': 400,
  'scope-not-covered': 403,
  'expiration-beyond-caller-key': 403,
};

/** A key that may not be granted (policy/api-key.ts `decideKeyGrant`): 400 for a bad request, 403 beyond the caller's own limits. */
export function keyGrantRefused(grant: Extract<KeyGrant, { allow: false }>): OciError {
  const status = KEY_GRANT_STATUS[grant.reason];
  return { status, code: status === 403 ? 'DENIED' : 'UNSUPPORTED', message: grant.message, reason: grant.reason };
}

/**
 * The renderer the forward plugin is given (server.ts wires it in, so proxy/
 * never imports http/): a guard's refused verdict in words, or its failure
 * (an unknown tag state, a body too large, the upstream's failure) as built.
 * No challenge: a write reaches its guard only with credentials the hook accepted.
 */
export function respond(request: FastifyRequest, reply: FastifyReply, stop: GuardStop): FastifyReply {
  return sendOciError(request, reply, stop.kind === 'refused' ? writeRefused(stop.identity, stop.verdict) : guardFailure(stop.failure));
}

/** Why a guard could not go on, in words (proxy/manifest-guard.ts `GuardFailure`). */
export function guardFailure(failure: GuardFailure): OciError {
  switch (failure.kind) {
    case 'too-large':
      return { status: 413, code: 'MANIFEST_INVALID', message: `manifest larger than ${failure.limitBytes} bytes`, reason: 'manifest-too-large' };
    case 'state-unknown':
      return {
        status: 503,
        code: 'UNAVAILABLE',
        message: `cannot tell ${failure.what}; nothing was written, retry later`,
        reason: 'tag-state-unknown',
        detail: { upstream: failure.detail },
      };
    case 'upstream':
      return upstreamFailure(failure.error);
  }
}

/**
 * What the client is told when a request to the registry failed, by how it
 * failed (proxy/upstream.ts `failureKind`):
 * - 503 `upstream-unreachable`: no connection could be made (refused, no such
 *   host, connect timeout) — the registry is down or restarting, nothing
 *   reached it, and a retry later is the right move (RFC 9110 §15.6.4);
 * - 504 `upstream-timeout`: connected, but no answer (or a stalled body of
 *   the gate's own lookups) within `upstream.timeout` (§15.6.5);
 * - 502 `upstream-error`: connected, and the answer broke off or could not
 *   be read (socket closed or reset mid-request, a parse error) — the request
 *   may have reached the registry (§15.6.3).
 * The message names no address: `detail.upstream` carries the code for the operator.
 */
export function upstreamFailure(error: unknown): OciError {
  const code = errorCode(error);
  const detail = code === undefined ? {} : { detail: { upstream: code } };
  switch (failureKind(code)) {
    case 'unreachable':
      return { status: 503, code: 'UNAVAILABLE', message: 'the registry behind the gate cannot be reached; retry later', reason: 'upstream-unreachable', ...detail };
    case 'timeout':
      return { status: 504, code: 'UNAVAILABLE', message: 'the registry behind the gate did not answer in time; retry later', reason: 'upstream-timeout', ...detail };
    case 'broken':
      return { status: 502, code: 'UNAVAILABLE', message: 'the registry behind the gate broke off its answer; retry later', reason: 'upstream-error', ...detail };
  }
}

/**
 * What the client is told when the catalog could not be read (proxy/catalog.ts
 * `fetchCatalog`): the registry's own refusal or garbage is a 502, a registry
 * that cannot be reached or timed out is told as every other upstream failure.
 */
export function catalogFailure(error: unknown): OciError {
  if (isGateError(error, 'UPSTREAM_CATALOG')) {
    return { status: 502, code: 'UNAVAILABLE', message: 'the registry behind the gate could not list its repositories; retry later', reason: 'upstream-error', detail: { upstream: error.message } };
  }
  return upstreamFailure(error);
}

// The gate's own fixed answers: each refusal a route, the hook or the HTTP
// parser makes without a policy verdict, worded here and nowhere else.

/** A storage failure said without its path (`problem`), and its reason. */
interface Unstored {
  readonly problem: string;
  readonly reason: Reason;
}

/** A request path or method the registry grammar rejects (registry/parse.ts). */
export function requestInvalid({ status, code, message, reason }: Invalid): OciError {
  return { status: status ?? 400, code, message, reason };
}

/** A route the gate does not serve (403) or a method it lacks (405), whatever the identity. */
export function routeRefused(requirement: Extract<Requirement, { kind: 'refused' }>): OciError {
  const { status, message, reason } = requirement;
  return { status, code: status === 405 ? 'UNSUPPORTED' : 'DENIED', message, reason };
}

/** `/v2/` for someone policy does not let in: 401, and the caller adds the challenge. */
export function baseRefused(reason: Reason): OciError {
  return { status: 401, code: 'UNAUTHORIZED', message: 'authentication required', reason };
}

export function uploadUnknown(session: string, repository: string, reason: Reason): OciError {
  return { status: 404, code: 'BLOB_UPLOAD_UNKNOWN', message: `upload ${session} is not known in repository "${repository}"`, reason };
}

export function authenticationThrottled(scope: ThrottleScope, username: string | undefined): OciError {
  const message =
    scope === 'address'
      ? 'too many failed authentications from this address; try again later'
      : `too many failed authentications for user ${JSON.stringify(username)}; try again later`;
  return { status: 429, code: 'TOOMANYREQUESTS', message, reason: `${scope}-locked` };
}

export const OAUTH_FORM_UNSUPPORTED: OciError = {
  status: 405,
  code: 'UNSUPPORTED',
  message: 'use GET with Basic credentials for a token (the OAuth2 form is not offered)',
  reason: 'oauth-form-unsupported',
};

export const HOST_INVALID: OciError = { status: 400, code: 'UNSUPPORTED', message: 'the Host header must be a host name or address, with an optional port', reason: 'host-invalid' };

// What Node's HTTP parser refuses before Fastify sees a request (http/connection-bounds.ts).
export const HEADERS_TIMEOUT: OciError = { status: 408, code: 'UNSUPPORTED', message: 'the request headers did not arrive in time', reason: 'headers-timeout' };
export const HEADERS_TOO_LARGE: OciError = { status: 431, code: 'UNSUPPORTED', message: 'the request headers are too large', reason: 'headers-too-large' };
export const NOT_HTTP: OciError = { status: 400, code: 'UNSUPPORTED', message: 'the request is not valid HTTP/1.1', reason: 'malformed-request' };

/** What Fastify's own request checks refuse (its `frameworkErrors`), in its words. */
export function frameworkRefused(message: string): OciError {
  return { status: 400, code: 'UNSUPPORTED', message, reason: 'malformed-request' };
}

/** No route matches the request: its method is not one the gate serves there. */
export function methodNotSupported(method: string): OciError {
  return { status: 405, code: 'UNSUPPORTED', message: `method ${method} is not supported`, reason: 'method-not-allowed' };
}

/** An error no route answered: a 4xx in its own words, anything else an internal error with none. */
export function unhandled(error: { readonly statusCode?: number; readonly message: string; readonly reason?: Reason }): OciError {
  const status = error.statusCode ?? 500;
  return {
    status: status >= 400 && status < 600 ? status : 500,
    code: status < 500 ? 'UNSUPPORTED' : 'UNAVAILABLE',
    message: status < 500 ? error.message : 'internal error',
    reason: status < 500 ? (error.reason ?? 'bad-request') : 'internal-error',
  };
}

export function storeUnavailable(failure: Unstored): OciError {
  return { status: 503, code: 'UNAVAILABLE', message: `${failure.problem}; retry later`, reason: failure.reason };
}

export function keyNotCreated(failure: Unstored): OciError {
  return { status: 503, code: 'UNAVAILABLE', message: `${failure.problem}; no key was created`, reason: failure.reason };
}

export function sessionNotEnded(failure: Unstored): OciError {
  return { status: 503, code: 'UNAVAILABLE', message: `the session was not ended: ${failure.problem}; retry later`, reason: failure.reason };
}

export const PROVIDER_REPEATED: OciError = {
  status: 400,
  code: 'UNSUPPORTED',
  message: 'query parameter "provider" is given more than once with different values; name one login provider',
  reason: 'repeated-parameter',
};

export const LOGOUT_CROSS_ORIGIN: OciError = {
  status: 403,
  code: 'DENIED',
  message: "logout must come from zot's UI (X-ZOT-API-CLIENT: zot-ui) or from this registry's own origin; the session was not ended",
  reason: 'cross-origin-request',
};

export const KEYS_NEED_AUTHENTICATION: OciError = { status: 401, code: 'UNAUTHORIZED', message: 'authentication required to manage API keys', reason: 'authentication-required' };

export const NOT_ACTIVE_KEY: OciError = { status: 401, code: 'UNAUTHORIZED', message: 'the credentials making this request are not an active API key', reason: 'invalid-credentials' };

export function bodyTooLarge(maxBytes: number): OciError {
  return { status: 413, code: 'UNSUPPORTED', message: `the request body is larger than ${maxBytes} bytes`, reason: 'body-too-large' };
}

export const NOT_JSON_MEDIA_TYPE: OciError = { status: 415, code: 'UNSUPPORTED', message: 'the request body must be application/json', reason: 'unsupported-media-type' };

export function badRequest(message: string, reason: KeyReason | TransportReason): OciError {
  return { status: 400, code: 'UNSUPPORTED', message, reason };
}
