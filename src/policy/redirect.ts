/**
 * Where to send a browser after login (`callback_ui`): only to a same-site
 * path or to an allow-listed origin, never anywhere else (no open redirect).
 * Anything doubtful falls back to `/`.
 */

/** A path: one leading `/`, no `//` or `/\` (protocol-relative), no backslash, no control characters. */
const SAFE_PATH = /^\/(?![/\\])[^\\\u0000-\u001f\u007f]*$/;

/**
 * @param selfOrigin the gate's own origin: an absolute URL on it is kept, as a path
 */
export function safeCallbackUi(value: string | undefined, allowOrigins: readonly string[], selfOrigin: string): string {
  if (value === undefined || value === '') return '/';
  if (/%(2f|5c|0d|0a|00)/i.test(value)) return '/';
  if (SAFE_PATH.test(value)) return value;
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
