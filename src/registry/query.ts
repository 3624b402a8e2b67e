/**
 * The query parameters each registry route uses (dist-spec), validated; every
 * other parameter is dropped, so only text the gate has read goes upstream.
 */
import { checkDigest, checkName, checkTag, quote } from './grammar.js';
import type { Invalid, RegistryRoute } from './types.js';

/** Kept parameters, in order, decoded. */
export type Query = ReadonlyArray<readonly [string, string]>;

export type KeptQuery =
  | { readonly ok: true; readonly query: Query; readonly mountDropped: boolean }
  | { readonly ok: false; readonly invalid: Invalid };

type Check = (value: string, where: string) => Invalid | null;

interface Param {
  readonly repeatable: boolean;
  readonly check: Check;
}

/** Page sizes above this are refused rather than passed to zot. */
export const MAX_PAGE_SIZE = 10_000;

const verbatim: Check = () => null;

const pageSize: Check = (value, where) => {
  if (/^\d{1,5}$/.test(value) && Number(value) <= MAX_PAGE_SIZE) return null;
  const message = `${where}must be a whole number from 0 to ${MAX_PAGE_SIZE}, got ${quote(value)}`;
  return { code: 'UNSUPPORTED', reason: 'page-size', message };
};

const once = (check: Check): Param => ({ repeatable: false, check });

type Rules = Readonly<Record<string, Param>>;

const RULES: Partial<Record<RegistryRoute['kind'], Rules>> = {
  // dist-spec: `digest` completes a monolithic POST; `mount` + `from` mount a blob.
  'upload-start': { mount: once(checkDigest), from: once(checkName), digest: once(checkDigest) },
  // distribution signs the upload state into `_state`; it goes back untouched.
  upload: { digest: once(checkDigest), _state: once(verbatim) },
  tags: { n: once(pageSize), last: once(checkTag) },
  catalog: { n: once(pageSize), last: once(checkName) },
  referrers: { artifactType: once(verbatim) },
};

/** dist-spec v1.1: `?tag=` names the tags of a manifest PUT by digest. */
const MANIFEST_PUT: Rules = { tag: { repeatable: true, check: checkTag } };

/**
 * zot's limit on `tag=` values in one manifest PUT (2.1.16+): what fits, at
 * 128 characters a tag, in an 8 KiB request target less 2 KiB for the path
 * (6144 / 133). Each tag costs an upstream lookup under the repository's
 * write lock, so more are refused before any.
 */
const MAX_MANIFEST_PUT_TAGS = 46;

function rulesFor(method: string, route: RegistryRoute): Rules {
  if (route.kind === 'manifest') return method === 'PUT' ? MANIFEST_PUT : {};
  return RULES[route.kind] ?? {};
}

/**
 * Keep the parameters `route` uses under `method`, each validated. A
 * single-valued parameter given twice is refused: the gate and zot might
 * read different copies.
 */
export function keepQuery(method: string, route: RegistryRoute, params: URLSearchParams): KeptQuery {
  const rules = rulesFor(method, route);
  if (route.kind === 'manifest' && method === 'PUT') {
    const tooMany = checkTagCount(params.getAll('tag').length);
    if (tooMany !== null) return { ok: false, invalid: tooMany };
  }
  const kept: Array<readonly [string, string]> = [];
  for (const [key, value] of params) {
    const rule = Object.hasOwn(rules, key) ? rules[key] : undefined;
    if (rule === undefined) continue;
    const where = `query parameter ${quote(key)}: `;
    if (!rule.repeatable && params.getAll(key).length > 1) {
      const message = `${where}may appear only once`;
      return { ok: false, invalid: { code: 'UNSUPPORTED', reason: 'repeated-parameter', message } };
    }
    const problem = rule.check(value, where);
    if (problem !== null) return { ok: false, invalid: problem };
    kept.push([key, value]);
  }
  return route.kind === 'upload-start' ? applyMountRule(kept) : { ok: true, query: kept, mountDropped: false };
}

/** Counted as sent, repeats and malformed values included (zot counts them so), before any value is read. */
function checkTagCount(count: number): Invalid | null {
  if (count <= MAX_MANIFEST_PUT_TAGS) return null;
  const message = `query parameter "tag": a manifest PUT may name at most ${MAX_MANIFEST_PUT_TAGS} tags, this one names ${count}`;
  return { status: 414, code: 'MANIFEST_INVALID', reason: 'too-many-tags', message };
}

/**
 * OCI dist-spec: a mount names its source with `from`; without
 * it the mount is dropped and a normal upload starts. `from` alone means
 * nothing and is dropped too, so it never costs a read check.
 */
function applyMountRule(kept: Query): KeptQuery {
  const has = (key: string): boolean => kept.some(([name]) => name === key);
  if (has('mount') && has('from')) return { ok: true, query: kept, mountDropped: false };
  const query = kept.filter(([key]) => key !== 'mount' && key !== 'from');
  return { ok: true, query, mountDropped: has('mount') };
}
