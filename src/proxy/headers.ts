/**
 * Header hygiene for both directions (DESIGN.md "Streaming"). The client's
 * credentials never reach zot; hop-by-hop headers stop at the gate.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** RFC 9110 §7.6.1 hop-by-hop headers, plus `expect`: Node answers `100-continue` itself and undici refuses it (FIELD-NOTES 2). */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect'];
/** The gate's own business: credentials and sessions for the gate, not for zot. */
const GATE_ONLY = ['authorization', 'proxy-authorization', 'cookie'];

export interface ForwardedFor {
  /** the Host the client addressed */
  readonly host: string;
  readonly proto: 'http' | 'https';
  readonly clientIp: string;
}

/**
 * Headers for the upstream request. `X-Forwarded-Host`/`-Proto` make zot build
 * absolute URLs (upload `Location`s) on the gate's name, not its own
 * (FIELD-NOTES pitfall 1). Client-sent forwarding headers are replaced, not trusted.
 */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, forwarded: ForwardedFor): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = { ...incoming };
  dropConnectionListed(headers, incoming.connection);
  for (const name of [...HOP_BY_HOP, ...GATE_ONLY, 'forwarded', 'x-forwarded-for', 'x-real-ip']) delete headers[name];
  headers['x-forwarded-host'] = forwarded.host;
  headers['x-forwarded-proto'] = forwarded.proto;
  headers['x-forwarded-for'] = forwarded.clientIp;
  return headers;
}

/**
 * Headers for the client's response. An absolute `Location` on the upstream's
 * or the gate's own origin becomes a path, so the client always continues
 * through the gate, whatever name it used.
 */
export function clientResponseHeaders(headers: OutgoingHttpHeaders, origins: readonly string[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ...headers };
  dropConnectionListed(out, headers.connection);
  for (const name of HOP_BY_HOP) delete out[name];
  const location = out.location;
  if (typeof location === 'string') out.location = relativeLocation(location, origins);
  return out;
}

/** `http://127.0.0.1:5051/v2/x/blobs/uploads/u?_state=s` → `/v2/x/blobs/uploads/u?_state=s` when the origin is ours. */
export function relativeLocation(location: string, origins: readonly string[]): string {
  if (location.startsWith('/')) return location;
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return location;
  }
  return origins.includes(url.origin) ? `${url.pathname}${url.search}` : location;
}

function dropConnectionListed(headers: Record<string, unknown>, connection: unknown): void {
  if (typeof connection !== 'string') return;
  for (const name of connection.split(',')) {
    const key = name.trim().toLowerCase();
    if (key !== '') delete headers[key];
  }
}
