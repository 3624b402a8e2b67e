/**
 * Header hygiene for both directions. The client's credentials and zot's
 * internal headers never reach zot; hop-by-hop headers stop at the gate.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** RFC 9110 §7.6.1 hop-by-hop headers, plus `expect`: Node answers `100-continue` itself, and undici refuses the header ("expect header not supported", a 500 for curl's bodies over 1 MiB). */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect'];
/** The gate's own business: credentials and sessions for the gate, not for zot. */
const GATE_ONLY = ['authorization', 'proxy-authorization', 'cookie'];
/**
 * zot's internal headers, which no client may send it: a cluster member that
 * reads a client's hop count and does not own the repository exits; an
 * auth-less zot 2.1.12+ answers zot's UI marker with a 500 (nil session store).
 */
const ZOT_INTERNAL = ['x-zot-cluster-hop-count', 'x-zot-api-client'];
/** Client-sent forwarding headers (and the request id): replaced by the gate's own, never trusted. */
const FORWARDING = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'x-request-id'];
const NOT_FORWARDED = new Set([...HOP_BY_HOP, ...GATE_ONLY, ...ZOT_INTERNAL, ...FORWARDING]);

export interface ForwardedFor {
  /** the Host the client addressed */
  readonly host: string;
  readonly proto: 'http' | 'https';
  readonly clientIp: string;
  /** the gate's own request id (a trusted proxy's, else its own UUID), in its log and audit trail */
  readonly requestId: string;
}

/**
 * Headers for the upstream request. `X-Forwarded-Host`/`-Proto` make zot build
 * absolute URLs (upload `Location`s) on the gate's name, not its own: else
 * the client PATCHes and PUTs its uploads around the gate. Client-sent forwarding headers are replaced, not trusted.
 * `X-Request-Id` is the gate's, so the registry's log lines join up with the gate's, never with an id a client chose.
 */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, forwarded: ForwardedFor): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  // Compared in lower case: Node lowercases what it parsed, but a name is a name in any letter case.
  for (const [name, value] of Object.entries(incoming)) if (!NOT_FORWARDED.has(name.toLowerCase())) headers[name] = value;
  dropConnectionListed(headers, incoming.connection);
  headers['x-forwarded-host'] = forwarded.host;
  headers['x-forwarded-proto'] = forwarded.proto;
  headers['x-forwarded-for'] = forwarded.clientIp;
  headers['x-request-id'] = forwarded.requestId;
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
  const listed = new Set(connection.split(',').map((name) => name.trim().toLowerCase()));
  for (const name of Object.keys(headers)) if (listed.has(name.toLowerCase())) delete headers[name];
}
