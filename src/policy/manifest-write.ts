/**
 * Every permission a manifest PUT needs, decided from what the upstream said
 * about each tag at PUT time (README, "How decisions are made"). Pure and table-tested;
 * the caller holds the per-tag lock and asks the upstream.
 *
 * For each tag the PUT names:
 * - new                          → `create`
 * - exists, same digest as body  → `create` or `update` (an identical re-push is a no-op: CI retries must not fail)
 * - exists, other digest         → refused if an `immutableTags` rule matches, else `update`
 * A digest PUT naming no tag needs `create`. Before any of this (before the
 * body is read) `decideManifestPush` turns away whoever may do neither.
 */
import { decideAdmin, decideRepository } from './access.js';
import { findImmutableRule, type ImmutableMatch } from './immutable.js';
import type { AccessControl, Decision, ImmutableTagRule, Principal } from './types.js';
import type { Action } from '../registry/types.js';

/** What the upstream holds under a tag, as seen under the lock. */
export type TagHolding = { readonly kind: 'absent' } | { readonly kind: 'present'; readonly digest: string };

export interface ManifestWriteInput {
  readonly ac: AccessControl;
  readonly immutableTags: readonly ImmutableTagRule[];
  readonly principal: Principal;
  readonly repository: string;
  /** sha256 of the body being PUT */
  readonly digest: string;
  readonly tags: ReadonlyArray<{ readonly tag: string; readonly holding: TagHolding }>;
}

export interface WriteVerdict {
  readonly allow: boolean;
  readonly decision: Decision;
  readonly action: Action;
  readonly repository: string;
  /** the tag that decided, when one did */
  readonly tag?: string;
  /** the rule that froze the tag, for `tag-immutable` */
  readonly immutable?: ImmutableMatch;
  /** the tag already held this exact manifest */
  readonly identical?: boolean;
}

/**
 * A manifest PUT before its body is read: whoever may neither create nor
 * update in the repository can write no tag there and is refused at once,
 * with `create`'s decision (what a new tag would need). Anyone else gets the
 * full decision under the lock, `decideManifestWrite`.
 */
export function decideManifestPush(ac: AccessControl, principal: Principal, repository: string): WriteVerdict {
  const create = decideRepository(ac, principal, repository, 'create');
  if (create.allow) return verdict({ repository }, 'create', create);
  const update = decideRepository(ac, principal, repository, 'update');
  return update.allow ? verdict({ repository }, 'update', update) : verdict({ repository }, 'create', create);
}

export function decideManifestWrite(input: ManifestWriteInput): WriteVerdict {
  const { ac, principal, repository } = input;
  if (input.tags.length === 0) return verdict(input, 'create', decideRepository(ac, principal, repository, 'create'));
  let last: WriteVerdict | undefined;
  for (const { tag, holding } of input.tags) {
    last = decideTag(input, tag, holding);
    if (!last.allow) return last;
  }
  return last!;
}

function decideTag(input: ManifestWriteInput, tag: string, holding: TagHolding): WriteVerdict {
  const { ac, principal, repository } = input;
  if (holding.kind === 'absent') return verdict(input, 'create', decideRepository(ac, principal, repository, 'create'), { tag });
  if (holding.digest === input.digest) {
    // A no-op: allowed to whoever may create (CI retries) and to whoever could move the tag anyway.
    const create = decideRepository(ac, principal, repository, 'create');
    const update = create.allow ? create : decideRepository(ac, principal, repository, 'update');
    return update.allow && !create.allow
      ? verdict(input, 'update', update, { tag, identical: true })
      : verdict(input, 'create', create, { tag, identical: true });
  }
  const immutable = findImmutableRule(input.immutableTags, repository, tag);
  if (immutable !== null) {
    return verdict(input, 'update', { allow: false, reason: 'tag-immutable' }, { tag, immutable });
  }
  return verdict(input, 'update', decideRepository(ac, principal, repository, 'update'), { tag });
}

function verdict(
  input: { readonly repository: string },
  action: Action,
  decision: Decision,
  extra: { tag?: string; immutable?: ImmutableMatch; identical?: boolean } = {},
): WriteVerdict {
  return { allow: decision.allow, decision, action, repository: input.repository, ...extra };
}

export interface ManifestDeleteInput {
  readonly ac: AccessControl;
  readonly immutableTags: readonly ImmutableTagRule[];
  readonly principal: Principal;
  readonly repository: string;
  /** the immutable tags the deleted reference is or points at (looked up by the caller) */
  readonly frozenTags: readonly string[];
}

/**
 * DELETE of a manifest: `delete` on the repository; when it would remove an
 * immutable tag (by name, or the digest such a tag points at), only an admin
 * holding `delete` may (Quay PROJQUAY-10504).
 */
export function decideManifestDelete(input: ManifestDeleteInput): WriteVerdict {
  const { ac, principal, repository } = input;
  const base = verdict(input, 'delete', decideRepository(ac, principal, repository, 'delete'));
  const [frozen] = input.frozenTags;
  if (!base.allow || frozen === undefined) return base;
  const immutable = findImmutableRule(input.immutableTags, repository, frozen) ?? undefined;
  const admin = decideAdmin(ac, principal, 'delete');
  return admin.allow
    ? verdict(input, 'delete', admin, { tag: frozen, ...(immutable ? { immutable } : {}) })
    : verdict(input, 'delete', { allow: false, reason: 'tag-immutable' }, { tag: frozen, ...(immutable ? { immutable } : {}) });
}
