/**
 * What a request's `Host` may be: `uri-host [ ":" port ]` (RFC 9110 §7.2,
 * RFC 3986 §3.2.2) — a registered name or IPv4 address, or an IPv6 address in
 * brackets — that also parses as the host of a URL. Pure.
 *
 * The gate builds its public origin from it (the token realm and `service`,
 * redirects, forms); Node's parser passes a value such as `a b` or `[::1`
 * through, on which `new URL` throws (a 500), and a `"` would end the quoted
 * realm of a challenge early.
 */

// reg-name: unreserved, pct-encoded and sub-delims; an IP-literal: hex, colons and dots (an IPv4 tail) in brackets.
const HOST = /^(?:\[(?<literal>[0-9A-Fa-f:.]+)\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::(?<port>\d{1,5}))?$/;

export function isValidHost(host: string): boolean {
  const parts = HOST.exec(host);
  if (parts === null) return false;
  const { port } = parts.groups ?? {};
  if (port !== undefined && Number(port) > 65_535) return false;
  // WHATWG's host rules besides: its IPv6 parser checks a bracketed literal
  // (the same verdicts as node:net's isIPv6 on what HOST lets through), and
  // percent-escapes that decode to what a host may not hold, IDNA.
  return URL.canParse(`http://${host}/`);
}
