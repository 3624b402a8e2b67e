/**
 * `immutableTags`: tags that nobody may overwrite (README, "How decisions are made").
 * Repository and tag globs use the same doublestar engine as accessControl;
 * tags hold no `/`, so a tag glob is effectively one segment. Case-sensitive,
 * as OCI tags are.
 */
import { matchGlob } from './glob.js';
import type { ImmutableTagRule } from './types.js';

/** The rule that makes `repository:tag` immutable, and its index in the list. */
export interface ImmutableMatch {
  readonly index: number;
  readonly rule: ImmutableTagRule;
}

/**
 * The first rule under which `tag` in `repository` is immutable: one of its
 * repository globs and one of its tag globs match, and none of its `except`
 * globs matches the tag. Null when no rule does.
 */
export function findImmutableRule(
  rules: readonly ImmutableTagRule[],
  repository: string,
  tag: string,
): ImmutableMatch | null {
  const index = rules.findIndex((rule) => appliesTo(rule, repository, tag));
  return index < 0 ? null : { index, rule: rules[index] as ImmutableTagRule };
}

/**
 * cosign and friends keep signatures, attestations and SBOMs under tags named
 * after the signed digest, and re-signing rewrites that tag with one more
 * layer. A broad rule such as `tags: ["*"]` must not freeze them, or an image
 * could be signed only once; a rule whose tag glob itself starts with
 * `sha256-` names them on purpose and does apply.
 */
const SIGNATURE_TAG = /^sha256-[0-9a-f]{64}\.(sig|att|sbom)$/;

function appliesTo(rule: ImmutableTagRule, repository: string, tag: string): boolean {
  const tagGlobs = SIGNATURE_TAG.test(tag) ? rule.tags.filter((pattern) => pattern.startsWith('sha256-')) : rule.tags;
  return (
    rule.repositories.some((pattern) => matchGlob(pattern, repository)) &&
    tagGlobs.some((pattern) => matchGlob(pattern, tag)) &&
    !(rule.except ?? []).some((pattern) => matchGlob(pattern, tag))
  );
}
