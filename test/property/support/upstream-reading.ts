/**
 * How the parts downstream of the gate read the URL it forwards, written
 * from their documentation, independently of src/registry: undici via
 * @fastify/reply-from resolves it with the WHATWG URL parser against the
 * upstream origin; zot (Go net/http + gorilla/mux) unescapes the path once,
 * cleans it (mux's `cleanPath`, i.e. Go's `path.Clean` keeping a trailing
 * slash) and matches its route templates in registration order. A test fake
 * of those readers, named as such: there is no Go runtime on this machine.
 */

export const UPSTREAM_ORIGIN = 'http://127.0.0.1:5051';

/** What reply-from sends: `new URL(source, base)` (after its `//` guard), as origin, path and query. */
export function whatwgTarget(upstreamUrl: string): { origin: string; pathname: string; search: string } {
  const source = upstreamUrl.startsWith('//') ? `.${upstreamUrl}` : upstreamUrl;
  const url = new URL(source, UPSTREAM_ORIGIN);
  return { origin: url.origin, pathname: url.pathname, search: url.search };
}

/** Go's `url.PathUnescape`, bytewise (ASCII stays ASCII); null where Go answers 400. */
export function goUnescape(path: string): string | null {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    if (path[i] !== '%') {
      out += path[i];
      continue;
    }
    const hex = path.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
    out += String.fromCharCode(Number.parseInt(hex, 16));
    i += 2;
  }
  return out;
}

/** gorilla/mux `cleanPath`: Go's `path.Clean`, with the trailing slash put back. */
export function goCleanPath(p: string): string {
  if (p === '') return '/';
  const rooted = p.startsWith('/') ? p : `/${p}`;
  const out: string[] = [];
  for (const segment of rooted.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  const cleaned = `/${out.join('/')}`;
  return rooted.endsWith('/') && cleaned !== '/' ? `${cleaned}/` : cleaned;
}

/** Go's `url.ParseQuery` as `r.URL.Query()` uses it: pairs with a `;` or a bad escape are skipped. */
export function goQuery(search: string): Array<[string, string]> {
  const raw = search.startsWith('?') ? search.slice(1) : search;
  const pairs: Array<[string, string]> = [];
  for (const part of raw.split('&')) {
    if (part === '' || part.includes(';')) continue;
    const eq = part.indexOf('=');
    const key = goQueryUnescape(eq === -1 ? part : part.slice(0, eq));
    const value = goQueryUnescape(eq === -1 ? '' : part.slice(eq + 1));
    if (key !== null && value !== null) pairs.push([key, value]);
  }
  return pairs;
}

function goQueryUnescape(text: string): string | null {
  const bytes = goUnescape(text.replaceAll('+', ' '));
  return bytes === null ? null : Buffer.from(bytes, 'latin1').toString('utf8');
}

// zot pkg/regexp NameRegexp (the distribution reference grammar). zot writes
// the separator `(?:[._]|__|[-]*)`; an empty separator only joins two runs of
// `[a-z0-9]`, so `-+` is the same language without the nested quantifier that
// makes a backtracking engine (unlike Go's RE2) take exponential time.
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const NAME = `${COMPONENT}(?:/${COMPONENT})*`;
const SEGMENT = '[^/]+'; // gorilla/mux's pattern for a bare `{variable}`

export type ZotRoute =
  | { readonly kind: 'base' | 'catalog' | 'extension' }
  | { readonly kind: 'tags' | 'upload-start'; readonly name: string }
  | { readonly kind: 'manifest' | 'blob' | 'upload' | 'referrers'; readonly name: string; readonly last: string };

type Template = readonly [kind: ZotRoute['kind'], pattern: RegExp];

// zot pkg/api/routes.go, in registration order under the `/v2` prefix.
const TEMPLATES: readonly Template[] = [
  ['base', /^\/v2\/$/],
  ['tags', new RegExp(`^/v2/(${NAME})/tags/list$`)],
  ['manifest', new RegExp(`^/v2/(${NAME})/manifests/(${SEGMENT})$`)],
  ['blob', new RegExp(`^/v2/(${NAME})/blobs/(${SEGMENT})$`)],
  ['upload-start', new RegExp(`^/v2/(${NAME})/blobs/uploads/$`)],
  ['upload', new RegExp(`^/v2/(${NAME})/blobs/uploads/(${SEGMENT})$`)],
  ['catalog', /^\/v2\/_catalog$/],
  ['referrers', new RegExp(`^/v2/(${NAME})/referrers/(${SEGMENT})$`)],
  ['extension', /^\/v2\/_(?:zot|oci)\/ext\//],
];

/** The first zot route template the (already unescaped and cleaned) path matches, or null. */
export function zotRoute(path: string): ZotRoute | null {
  for (const [kind, pattern] of TEMPLATES) {
    const match = pattern.exec(path);
    if (match === null) continue;
    const [, name, last] = match;
    if (name === undefined) return { kind } as ZotRoute;
    return (last === undefined ? { kind, name } : { kind, name, last }) as ZotRoute;
  }
  return null;
}

/** The paths zot serves something other than its UI under (case as Go compares: exact). */
export function reachesZotApi(path: string): boolean {
  return ['/v2', '/metrics', '/zot/auth', '/auth', '/oras/artifacts'].some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}
