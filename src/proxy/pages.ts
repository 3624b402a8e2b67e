/**
 * A whole list from the registry, page by page (dist-spec "Listing
 * Repositories" and "Listing Tags": `n`, `last`, and a `Link` header while
 * more follow). The catalog filter needs every repository, a delete by digest
 * every tag of its repository; both read through this one pager.
 */
import type { Upstream } from './upstream.js';

const PAGE = 1000;
const MAX_PAGES = 1000;

export type PagedList =
  /** the registry said there is no more */
  | { readonly kind: 'complete'; readonly items: string[] }
  /** a page was answered with `status`, not 200; `items` holds the pages before it */
  | { readonly kind: 'refused'; readonly status: number; readonly items: string[] }
  /** still more after MAX_PAGES pages; `items` holds what was read */
  | { readonly kind: 'truncated'; readonly items: string[] };

/**
 * Every string in `field` of each page of `path` (which has no query),
 * following the registry's pagination. Rejects as the upstream request does
 * (no connection, a timeout) or when a 200 answer is not JSON.
 */
export async function readAllPages(
  upstream: Upstream,
  path: string,
  field: 'repositories' | 'tags',
  headers: Record<string, string> = {},
): Promise<PagedList> {
  const items: string[] = [];
  let last: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query: string = `n=${PAGE}${last === null ? '' : `&last=${encodeURIComponent(last)}`}`;
    const response = await upstream.request({ method: 'GET', path: `${path}?${query}`, headers });
    if (response.statusCode !== 200) {
      await response.body.dump();
      return { kind: 'refused', status: response.statusCode, items };
    }
    const body = (await response.body.json()) as Record<string, unknown>;
    const list = body[field];
    const batch = Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string') : [];
    items.push(...batch);
    if (batch.length === 0 || response.headers.link === undefined) return { kind: 'complete', items };
    last = batch[batch.length - 1]!;
  }
  return { kind: 'truncated', items };
}
