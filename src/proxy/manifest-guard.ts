/**
 * The manifest write path: read the body (manifests only, capped), hash it,
 * take the per-tag locks, ask the upstream what each tag holds, decide, and
 * only then write — all before the lock is released, so two PUTs to one new
 * tag cannot both see it absent.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { Config } from '../config/types.js';
import type { Identity } from '../identity/types.js';
import { noteDecision, noteDigest } from '../observability/observation.js';
import { decideManifestWrite, type TagHolding, type WriteVerdict } from '../policy/manifest-write.js';
import type { Principal } from '../policy/types.js';
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.js';
import { clientOrigin, forwardedFor } from './forwarded.js';
import type { TagLocks } from './tag-locks.js';
import { tagState } from './tag-state.js';
import type { Upstream } from './upstream.js';

/** OCI dist-spec: registries SHOULD accept manifests up to 4 MiB; larger are refused, not buffered. */
const MANIFEST_LIMIT_BYTES = 4 * 1024 * 1024;

export interface ManifestGuardDeps {
  readonly upstream: Upstream;
  readonly locks: TagLocks;
  readonly config: () => Config;
}

export interface ManifestWrite {
  readonly repository: string;
  readonly tags: readonly string[];
  readonly upstreamUrl: string;
  readonly identity: Identity;
  readonly principal: Principal;
}

/**
 * Why a guard did not relay the registry's answer: the verdict refused (the
 * words are http/respond.ts's), or the gate could not go on (`error`).
 */
export type GuardStop =
  | { readonly kind: 'refused'; readonly identity: Identity; readonly verdict: WriteVerdict }
  | { readonly kind: 'failed'; readonly failure: GuardFailure };

/** Why a guard could not go on; worded by http/respond.ts `guardFailure`. */
export type GuardFailure =
  /** the manifest body is larger than the gate reads whole */
  | { readonly kind: 'too-large'; readonly limitBytes: number }
  /** what a tag holds could not be learnt, so nothing was written (fail closed) */
  | { readonly kind: 'state-unknown'; readonly what: string; readonly detail: string }
  /** the request to the registry failed: `error` is undici's, classified by upstream.ts `failureKind` */
  | { readonly kind: 'upstream'; readonly error: unknown };

/** What a guard did: relayed the registry's answer (the reply is sent), or stopped. */
export type GuardOutcome = { readonly kind: 'relayed'; readonly reply: FastifyReply } | GuardStop;

/** Turns a stop into the client's answer; http/respond.ts `respond`, given through the forward plugin's options. */
export type Respond = (request: FastifyRequest, reply: FastifyReply, stop: GuardStop) => FastifyReply;

export const unknownState = (what: string, detail: string): GuardFailure => ({ kind: 'state-unknown', what, detail });

/** Relays the write once the verdict allows it; otherwise says why not, for the caller to answer. */
export async function guardManifestPut(request: FastifyRequest, reply: FastifyReply, write: ManifestWrite, deps: ManifestGuardDeps): Promise<GuardOutcome> {
  const body = await readCapped(request.body as Readable | undefined, request.headers['content-length']);
  if (body === null) {
    return failed({ kind: 'too-large', limitBytes: MANIFEST_LIMIT_BYTES });
  }
  const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  noteDigest(request, digest);
  // One writer per repository: the tag check and the write are one step, and a digest DELETE
  // (manifest-delete.ts) cannot interleave with a PUT that puts an immutable tag on that digest.
  const release = await deps.locks.acquire([write.repository]);
  try {
    const tags: Array<{ tag: string; holding: TagHolding }> = [];
    for (const tag of write.tags) {
      const state = await tagState(deps.upstream, write.repository, tag);
      if (state.kind === 'absent') tags.push({ tag, holding: { kind: 'absent' } });
      else if (state.kind === 'present' && state.digest !== null) tags.push({ tag, holding: { kind: 'present', digest: state.digest } });
      // Fail closed: without the current digest, create, update and re-push cannot be told apart.
      else return failed(unknownState(`whether tag "${tag}" exists in "${write.repository}"`, state.kind === 'unknown' ? state.detail : 'no digest'));
    }
    const config = deps.config();
    const verdict = decideManifestWrite({ ac: config.accessControl, immutableTags: config.immutableTags, principal: write.principal, repository: write.repository, digest, tags });
    noteDecision(request, verdict.action, verdict.decision);
    if (!verdict.allow) return { kind: 'refused', identity: write.identity, verdict };
    request.gateReason = verdict.identical === true ? 'identical-repush' : verdict.decision.reason;
    return await relayToUpstream(request, reply, deps, 'PUT', write.upstreamUrl, body);
  } finally {
    release();
  }
}

export function failed(failure: GuardFailure): GuardStop {
  return { kind: 'failed', failure };
}

/** Sends one write upstream with the gate's header hygiene and relays the (small) answer; a failure is returned, not sent. */
export async function relayToUpstream(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: ManifestGuardDeps,
  method: 'PUT' | 'DELETE',
  path: string,
  body?: Buffer,
): Promise<GuardOutcome> {
  const forwarded = forwardedFor(request);
  const headers = upstreamRequestHeaders(request.headers, forwarded);
  if (body === undefined) delete headers['content-length'];
  else headers['content-length'] = String(body.length);
  let response: Awaited<ReturnType<Upstream['request']>>;
  let payload: Buffer;
  try {
    response = await deps.upstream.request({ method, path, headers, ...(body === undefined ? {} : { body }) });
    payload = Buffer.from(await response.body.arrayBuffer());
  } catch (error) {
    // The write may or may not have reached the registry; the client is told which failure it was (upstream.ts) and retries.
    request.log.warn({ err: error }, 'upstream request failed');
    return failed({ kind: 'upstream', error });
  }
  const origins = [deps.upstream.origin, clientOrigin(request)];
  return { kind: 'relayed', reply: reply.code(response.statusCode).headers(clientResponseHeaders(response.headers, origins)).send(payload) };
}

/** The whole body, or null when it is larger than the manifest limit. */
async function readCapped(stream: Readable | undefined, contentLength: string | undefined): Promise<Buffer | null> {
  if (stream === undefined) return Buffer.alloc(0);
  if (contentLength !== undefined && Number(contentLength) > MANIFEST_LIMIT_BYTES) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > MANIFEST_LIMIT_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
