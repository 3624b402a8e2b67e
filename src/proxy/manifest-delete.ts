/**
 * The manifest delete path. Deleting an immutable tag — by its name, by the
 * digest it points at, or by a platform manifest its index lists — needs an
 * admin (Quay PROJQUAY-10504), and the audit event names the tag it removes.
 * The lookup and the delete happen under the repository's write lock, so a
 * PUT cannot put an immutable tag on the digest between the check and the
 * delete.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Identity } from '../identity/types.js';
import { noteDecision, noteDetail } from '../observability/observation.js';
import { findImmutableRule } from '../policy/immutable.js';
import { decideManifestDelete } from '../policy/manifest-write.js';
import type { Principal } from '../policy/types.js';
import type { Reference } from '../registry/types.js';
import { failed, relayToUpstream, unknownState, type GuardFailure, type GuardOutcome, type ManifestGuardDeps } from './manifest-guard.js';
import { listTags, tagContent } from './tag-state.js';

export interface ManifestDelete {
  readonly repository: string;
  readonly reference: Reference;
  readonly upstreamUrl: string;
  readonly identity: Identity;
  readonly principal: Principal;
}

/** Relays the delete once the verdict allows it; otherwise says why not, as guardManifestPut. */
export async function guardManifestDelete(request: FastifyRequest, reply: FastifyReply, del: ManifestDelete, deps: ManifestGuardDeps): Promise<GuardOutcome> {
  const release = await deps.locks.acquire([del.repository]);
  try {
    const frozen = await frozenTags(deps, del.repository, del.reference);
    if ('error' in frozen) return failed(frozen.error);
    const config = deps.config();
    const verdict = decideManifestDelete({
      ac: config.accessControl,
      immutableTags: config.immutableTags,
      principal: del.principal,
      repository: del.repository,
      frozenTags: frozen.tags,
    });
    noteDecision(request, 'delete', verdict.decision);
    if (verdict.tag !== undefined) {
      // an admin's delete of an immutable tag is audited with the tag it removes.
      noteDetail(request, { immutableTag: verdict.tag, ...(verdict.immutable ? { rule: `immutableTags[${verdict.immutable.index}]` } : {}) });
    }
    if (!verdict.allow) return { kind: 'refused', identity: del.identity, verdict };
    request.gateReason = verdict.decision.reason;
    return await relayToUpstream(request, reply, deps, 'DELETE', del.upstreamUrl);
  } finally {
    release();
  }
}

/** The immutable tags the deleted reference is, or points into. */
async function frozenTags(deps: ManifestGuardDeps, repository: string, reference: Reference): Promise<{ tags: string[] } | { error: GuardFailure }> {
  const rules = deps.config().immutableTags;
  const frozen = (tag: string) => findImmutableRule(rules, repository, tag) !== null;
  if (reference.kind === 'tag') return { tags: frozen(reference.tag) ? [reference.tag] : [] };
  if (rules.length === 0) return { tags: [] };
  const tags = await listTags(deps.upstream, repository);
  if (tags === null) return { error: unknownState(`which tags point at ${reference.digest} in "${repository}"`, 'tag list failed') };
  const hits: string[] = [];
  for (const tag of tags.filter(frozen)) {
    const content = await tagContent(deps.upstream, repository, tag);
    if (content.kind === 'unknown') return { error: unknownState(`what tag "${tag}" points at in "${repository}"`, content.detail) };
    if (content.kind === 'present' && (content.digest === reference.digest || content.children.includes(reference.digest))) hits.push(tag);
  }
  return { tags: hits };
}
