/**
 * Which requests are audit events, and what they say. Pure: from what the
 * gate noted about a request (observation.ts), its method and final status.
 *
 * - a handler's own note (login, logout, key changes) is the event;
 * - every 401, 403 or 429 (a throttled client) the gate rendered itself, and every denied decision
 *   (an upload session that is someone else's answers 404), is a `refusal` —
 *   except the `/v2/` challenge to a client that sent no credentials, which is
 *   how every client starts the token flow (README, "How clients prove who they are"), not a
 *   refusal;
 * - an allowed manifest PUT, upload close (PUT) or single-request upload or
 *   mount (POST with `digest` or `mount`) is a `write`;
 * - an allowed DELETE (manifest, blob, upload session) is a `delete`.
 *
 * Allowed writes and deletes are audited whatever the registry then answered;
 * `status` says what the client got.
 */
import type { Reason } from '../policy/types.js';
import type { ParsedRequest } from '../registry/types.js';
import type { AuditEvent } from './audit.js';
import type { Observation } from './observation.js';

/** An audit event but for what the request adds itself (time, client, request id). */
export type AuditFacts = Omit<AuditEvent, 'time' | 'client' | 'requestId'>;

const REFUSALS: ReadonlySet<number> = new Set([401, 403, 429]);

export function auditFactsOf(observation: Observation, method: string, status: number): AuditFacts | null {
  const { audit, error, decision, registry, authFailure } = observation;
  if (audit !== undefined) {
    return { ...audit, method, repository: null, reference: null, digest: null, status, detail: audit.detail ?? null };
  }
  const parsed = registry === undefined || registry === 'invalid' ? undefined : registry;
  const challenge = parsed?.route.kind === 'base' && authFailure === undefined;
  const refused = (error !== undefined && REFUSALS.has(error.status)) || decision?.allow === false;
  // a refusal has a reason: its credentials', its decision's, or its error's
  const reason = refused ? (authFailure ?? (decision?.allow === false ? decision.reason : error?.reason)) : undefined;
  if (reason !== undefined && !challenge) return facts(observation, 'refusal', method, status, parsed, 'deny', reason);
  if (parsed === undefined || decision?.allow !== true) return null;
  if (method === 'DELETE') return facts(observation, 'delete', method, status, parsed, 'allow', decision.reason);
  if (isWrite(parsed, method)) return facts(observation, 'write', method, status, parsed, 'allow', decision.reason);
  return null;
}

function isWrite({ route, query }: ParsedRequest, method: string): boolean {
  if (route.kind === 'manifest' || route.kind === 'upload') return method === 'PUT';
  return route.kind === 'upload-start' && method === 'POST' && query.some(([key]) => key === 'digest' || key === 'mount');
}

function facts(
  observation: Observation,
  event: AuditFacts['event'],
  method: string,
  status: number,
  parsed: ParsedRequest | undefined,
  decision: 'allow' | 'deny',
  reason: Reason,
): AuditFacts {
  const identity = observation.identity;
  const subject = parsed === undefined ? { repository: null, reference: null, digest: null } : subjectOf(parsed, observation.digest);
  const detail = { ...subject.detail, ...observation.detail };
  return {
    event,
    identity: identity?.kind === 'user' ? identity.name : null,
    authMethod: observation.authMethod ?? 'anonymous',
    method,
    repository: subject.repository,
    reference: subject.reference,
    digest: subject.digest,
    decision,
    reason,
    status,
    detail: Object.keys(detail).length === 0 ? null : detail,
  };
}

interface Subject {
  readonly repository: string | null;
  readonly reference: string | null;
  readonly digest: string | null;
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** What the request addressed: the path's repository and reference, and the content's digest. */
function subjectOf({ route, query }: ParsedRequest, bodyDigest: string | undefined): Subject {
  const param = (key: string) => query.find(([k]) => k === key)?.[1] ?? null;
  switch (route.kind) {
    case 'manifest': {
      const reference = route.reference.kind === 'tag' ? route.reference.tag : route.reference.digest;
      const digest = bodyDigest ?? (route.reference.kind === 'digest' ? route.reference.digest : null);
      return { repository: route.name, reference, digest };
    }
    case 'blob':
    case 'referrers':
      return { repository: route.name, reference: route.digest, digest: route.digest };
    case 'upload-start': {
      const from = param('from');
      return { repository: route.name, reference: null, digest: param('digest') ?? param('mount'), ...(from === null ? {} : { detail: { mountFrom: from } }) };
    }
    case 'upload':
      return { repository: route.name, reference: null, digest: param('digest') };
    case 'tags':
      return { repository: route.name, reference: null, digest: null };
    default:
      return { repository: null, reference: null, digest: null };
  }
}
