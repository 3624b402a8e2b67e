/**
 * The registry requests the gate answers itself rather than forwarding:
 * `/v2/` (from the identity alone), `/v2/_catalog` (zot's list, filtered to
 * what the caller may read and paged again) and zot's mgmt extension (what
 * zot's UI reads to offer a login).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/types.js';
import { decideBase } from '../policy/authorize.js';
import type { Principal } from '../policy/types.js';
import { fetchCatalog, paginate } from '../proxy/catalog.js';
import { mgmtAnswer } from '../proxy/mgmt.js';
import type { Upstream } from '../proxy/upstream.js';
import type { ParsedRequest } from '../registry/types.js';
import { noteDecision } from '../observability/observation.js';
import { challengeFor } from './authenticate.js';
import { sendOciError } from './oci-error.js';
import { isZotUi } from './origin.js';
import { baseRefused, catalogFailure } from './respond.js';

/** `GET`/`HEAD /v2/`: 200 `{}` to whoever policy lets in (policy/authorize.ts `decideBase`), else 401 with a challenge. */
export function answerBase(request: FastifyRequest, reply: FastifyReply, config: Config, principal: Principal): FastifyReply {
  const decision = decideBase(config.accessControl, principal, isZotUi(request));
  noteDecision(request, 'base', decision);
  if (!decision.allow) {
    return sendOciError(request, reply, baseRefused(decision.reason), challengeFor(request, config));
  }
  request.gateReason = decision.reason;
  return reply.code(200).header('docker-distribution-api-version', 'registry/2.0').header('content-type', 'application/json').send('{}');
}

/** `GET /v2/_catalog?n=&last=`: only the repositories `readable` says the caller may read, paged over those. */
export async function answerCatalog(
  request: FastifyRequest,
  reply: FastifyReply,
  upstream: Upstream,
  readable: (repository: string) => boolean,
  parsed: ParsedRequest,
): Promise<FastifyReply> {
  const n = parsed.query.find(([k]) => k === 'n')?.[1];
  const last = parsed.query.find(([k]) => k === 'last')?.[1] ?? null;
  let names: string[];
  try {
    names = await fetchCatalog(upstream);
  } catch (error) {
    request.log.warn({ err: error }, 'catalog not read from the registry');
    return sendOciError(request, reply, catalogFailure(error));
  }
  const page = paginate(names.filter(readable), n === undefined ? null : Number(n), last);
  request.gateReason = 'catalog-filtered';
  noteDecision(request, 'read', { allow: true, reason: 'catalog-filtered' });
  if (page.link !== null) reply.header('link', page.link);
  return reply.code(200).header('content-type', 'application/json').send(JSON.stringify({ repositories: page.repositories }));
}

/** `/v2/_zot/ext/mgmt`: zot's answer, or the gate's own, advertising the logins the gate offers (proxy/mgmt.ts). */
export async function answerMgmt(request: FastifyRequest, reply: FastifyReply, upstream: Upstream, upstreamUrl: string, config: Config): Promise<FastifyReply> {
  const answer = await mgmtAnswer(upstream, upstreamUrl, config);
  request.gateReason = 'mgmt';
  return reply.code(answer.status).header('content-type', 'application/json').send(request.method === 'HEAD' ? undefined : answer.body);
}
