/**
 * Parses the `Authorization` header into credentials, strictly. Parsing is
 * done on the raw header list because Node keeps only the first of repeated
 * `Authorization` headers, and two of them must be refused, not resolved.
 */

export type Credentials =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'bearer'; readonly token: string };

export type CredentialsFailure = 'multiple-authorization' | 'malformed-authorization' | 'unsupported-scheme';

export type CredentialsResult =
  | { readonly ok: true; readonly credentials: Credentials }
  | { readonly ok: false; readonly reason: CredentialsFailure };

const NONE: CredentialsResult = { ok: true, credentials: { kind: 'none' } };
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Credentials from Node's `rawHeaders` (alternating names and values). */
export function parseAuthorization(rawHeaders: readonly string[]): CredentialsResult {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'authorization') values.push(rawHeaders[i + 1] ?? '');
  }
  if (values.length > 1) return { ok: false, reason: 'multiple-authorization' };
  const header = values[0]?.trim();
  if (header === undefined || header === '') return NONE;

  const space = header.indexOf(' ');
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
  const param = space === -1 ? '' : header.slice(space + 1).trim();
  if (scheme === 'basic') return parseBasic(param);
  if (scheme === 'bearer') {
    return TOKEN68.test(param) ? { ok: true, credentials: { kind: 'bearer', token: param } } : { ok: false, reason: 'malformed-authorization' };
  }
  return { ok: false, reason: 'unsupported-scheme' };
}

function parseBasic(param: string): CredentialsResult {
  if (!BASE64.test(param) || param.length % 4 !== 0) return { ok: false, reason: 'malformed-authorization' };
  const decoded = Buffer.from(param, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return { ok: false, reason: 'malformed-authorization' };
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  // `Basic Og==` (":") is what some clients send for "no credentials"; zot treats it as none.
  if (username === '' && password === '') return NONE;
  return { ok: true, credentials: { kind: 'basic', username, password } };
}
