/**
 * `_catalog`, filtered to what the caller may read and paginated again
 * (dist-spec "Listing Repositories": `n`, `last`, `Link`). zot cannot filter
 * for a user it does not know, so the gate reads the whole list and filters.
 */
import { GateError } from '../errors.js';
import { readAllPages } from './pages.js';
import type { Upstream } from './upstream.js';

/** Every repository name upstream, following its pagination. */
export async function fetchCatalog(upstream: Upstream): Promise<string[]> {
  const read = await readAllPages(upstream, '/v2/_catalog', 'repositories', { accept: 'application/json' });
  if (read.kind === 'refused') throw new GateError('UPSTREAM_CATALOG', `upstream answered ${read.status} to _catalog`, { status: 502 });
  return read.items;
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
