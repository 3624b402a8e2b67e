/**
 * `_catalog`, filtered to what the caller may read and paginated again
 * (dist-spec "Listing Repositories": `n`, `last`, `Link`). zot cannot filter
 * for a user it does not know, so the gate reads the whole list and filters.
 */
import { GateError, isGateError } from '../errors.js';
import type { OciError } from '../http/oci-error.js';
import { upstreamFailure, type Upstream } from './upstream.js';

const PAGE = 1000;
const MAX_PAGES = 1000;

/** Every repository name upstream, following its pagination. */
export async function fetchCatalog(upstream: Upstream): Promise<string[]> {
  const names: string[] = [];
  let last: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query: string = `n=${PAGE}${last === null ? '' : `&last=${encodeURIComponent(last)}`}`;
    const response = await upstream.request({ method: 'GET', path: `/v2/_catalog?${query}`, headers: { accept: 'application/json' } });
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw new GateError('UPSTREAM_CATALOG', `upstream answered ${response.statusCode} to _catalog`, { status: 502 });
    }
    const body = (await response.body.json()) as { repositories?: unknown };
    const batch = Array.isArray(body.repositories) ? body.repositories.filter((n): n is string => typeof n === 'string') : [];
    names.push(...batch);
    if (batch.length === 0 || response.headers.link === undefined) return names;
    last = batch[batch.length - 1]!;
  }
  return names;
}

/**
 * What the client is told when {@link fetchCatalog} failed: the registry's own
 * refusal or garbage is a 502, a registry that cannot be reached or timed out
 * is told as every other upstream failure (upstreamFailure).
 */
export function catalogFailure(error: unknown): OciError {
  if (isGateError(error, 'UPSTREAM_CATALOG')) {
    return { status: 502, code: 'UNAVAILABLE', message: 'the registry behind the gate could not list its repositories; retry later', reason: 'upstream-error', detail: { upstream: error.message } };
  }
  return upstreamFailure(error);
}

export interface CatalogPage {
  readonly repositories: string[];
  /** the `Link` header for the next page, when there is one */
  readonly link: string | null;
}

/** One page of the filtered list: names after `last`, at most `n` of them. */
export function paginate(names: readonly string[], n: number | null, last: string | null): CatalogPage {
  const sorted = [...names].sort();
  const after = last === null ? sorted : sorted.filter((name) => name > last);
  if (n === 0) return { repositories: [], link: null };
  if (n === null || after.length <= n) return { repositories: after, link: null };
  const repositories = after.slice(0, n);
  const next = repositories[repositories.length - 1]!;
  return { repositories, link: `</v2/_catalog?n=${n}&last=${encodeURIComponent(next)}>; rel="next"` };
}
