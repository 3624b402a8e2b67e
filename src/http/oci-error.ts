/**
 * The one place that renders error bodies and challenges. Every refusal the
 * gate makes leaves through `sendOciError`, as the OCI error list
 * `{"errors":[{"code","message","detail"}]}` (dist-spec "Error Codes").
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { noteError } from '../observability/observation.js';
import type { OciError } from '../errors.js';
import type { Reason } from '../policy/types.js';
import { isZotUi } from './origin.js';

/** How a 401 tells the client to authenticate (RFC 7235; Docker token flow for `bearer`). */
export type Challenge =
  | { readonly kind: 'basic'; readonly realm: string }
  | { readonly kind: 'bearer'; readonly realm: string; readonly service: string; readonly scope?: string };

function challengeHeader(challenge: Challenge): string {
  if (challenge.kind === 'basic') return `Basic realm=${JSON.stringify(challenge.realm)}`;
  const scope = challenge.scope === undefined ? '' : `,scope=${JSON.stringify(challenge.scope)}`;
  return `Bearer realm=${JSON.stringify(challenge.realm)},service=${JSON.stringify(challenge.service)}${scope}`;
}

/** The error body, exactly as sent. */
export function ociErrorBody(error: OciError): string {
  return JSON.stringify({
    errors: [{ code: error.code, message: error.message, detail: { reason: error.reason, ...error.detail } }],
  });
}

/**
 * Sends an OCI error. A 401 carries the `challenge` given (Bearer for the
 * token flow, or Basic) unless the request came from zot's UI, which shows its
 * own sign-in instead of the browser's prompt (zot's rule, pkg/api/authn.go authFail). The error is
 * noted for the audit trail: every 401 and 403 rendered here is a refusal.
 */
export function sendOciError(
  request: FastifyRequest,
  reply: FastifyReply,
  error: OciError,
  challenge?: Challenge,
): FastifyReply {
  request.gateReason = error.reason;
  noteError(request, error);
  if (error.status === 401 && challenge !== undefined && !isZotUi(request)) {
    reply.header('www-authenticate', challengeHeader(challenge));
  }
  return reply
    .code(error.status)
    .header('content-type', 'application/json; charset=utf-8')
    .header('docker-distribution-api-version', 'registry/2.0')
    .send(ociErrorBody(error));
}

declare module 'fastify' {
  interface FastifyRequest {
    /** why the gate answered as it did; read by logs and metrics */
    gateReason?: Reason;
  }
}
