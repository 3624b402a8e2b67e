/**
 * The CSRF rules. The gate's own forms (`/-/account`): a write must come
 * from our own origin (or name none) and echo the session's CSRF token.
 * SameSite=Lax already keeps the session off cross-site subrequests; this
 * closes the rest. Pure: inputs are header and form values.
 */
export interface FormOrigin {
  /** the request's `Origin` header, if any */
  readonly origin: string | undefined;
  /** the gate's public origin */
  readonly expectedOrigin: string;
  /** the `csrf` field the form sent */
  readonly token: unknown;
  /** the token sealed in the session */
  readonly sessionToken: string;
}

export function sameOriginForm({ origin, expectedOrigin, token, sessionToken }: FormOrigin): boolean {
  if (origin !== undefined && origin !== expectedOrigin) return false;
  return typeof token === 'string' && token.length > 0 && sameSecret(token, sessionToken);
}

/** A write that carries no form token: zot's `POST /zot/auth/logout`. */
export interface TokenlessWrite {
  readonly origin: string | undefined;
  readonly expectedOrigin: string;
  /** zot's UI header (`X-ZOT-API-CLIENT: zot-ui`) is on the request */
  readonly zotUi: boolean;
}

/**
 * The CSRF rule for a write with no token to echo: zot's UI header (a form
 * cannot send it, and a script on another origin needs a CORS preflight the
 * gate never grants), or an `Origin` naming our own origin exactly. No
 * `Origin` is refused here: with no token, it is the only proof left, and
 * SameSite=Lax lets the cookie ride along from any origin of the same site.
 */
export function sameOriginWrite({ origin, expectedOrigin, zotUi }: TokenlessWrite): boolean {
  return zotUi || origin === expectedOrigin;
}

/**
 * Compares in constant time, so response timing does not reveal how much of
 * a guessed token was right: every code unit is XORed and the differences
 * ORed, with no early exit. The length check does return early, which leaks
 * only the length: acceptable, as CSRF tokens all have one fixed length.
 */
function sameSecret(given: string, expected: string): boolean {
  if (given.length !== expected.length) return false;
  let difference = 0;
  for (let i = 0; i < given.length; i++) difference |= given.charCodeAt(i) ^ expected.charCodeAt(i);
  return difference === 0;
}
