/**
 * Where to send a browser after login (`callback_ui`): only to a same-site
 * path or to an allow-listed origin, never anywhere else (no open redirect).
 * Anything doubtful falls back to `/`. The answer is always printable ASCII,
 * so it can go out as a `Location` header (Node refuses anything beyond
 * Latin-1, and Latin-1 goes out as bytes browsers read otherwise).
 */

/** A path: one leading `/`, no `//` or `/\` (protocol-relative), no backslash, no control characters. */
const SAFE_PATH = /^\/(?![/\\])[^\\\u0000-\u001f\u007f]*$/;

/**
 * @param selfOrigin the gate's own origin: an absolute URL on it is kept, as a path
 */
export function safeCallbackUi(value: string | undefined, allowOrigins: readonly string[], selfOrigin: string): string {
  if (value === undefined || value === '') return '/';
  if (/%(2f|5c|0d|0a|00)/i.test(value)) return '/';
  if (SAFE_PATH.test(value)) return printable(value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return '/';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return '/';
  if (url.origin === selfOrigin) return SAFE_PATH.test(url.pathname) ? `${url.pathname}${url.search}` : '/';
  return allowOrigins.includes(url.origin) ? url.href : '/';
}

/** Beyond printable ASCII (space included). */
const UNPRINTABLE = /[^\u0021-\u007e]+/g;

/**
 * A same-site path with every character beyond printable ASCII
 * percent-encoded as UTF-8 — what a browser requests for it anyway, so the
 * user lands where the link meant. Only those characters are touched: the
 * path is not normalised, so no rule above is undone. A string that is not
 * well-formed UTF-16 (a lone surrogate) has no such encoding: `/`.
 */
function printable(path: string): string {
  try {
    return path.replace(UNPRINTABLE, (run) => encodeURIComponent(run));
  } catch {
    return '/'; // URIError: a lone surrogate
  }
}
