/**
 * How long a client may hold the gate's sockets without making progress
 * (slowloris), and the Node/Fastify server settings that enforce it. The one
 * thing never bounded is the length of a transfer that keeps moving: a
 * multi-GiB blob may take an hour in either direction.
 *
 * Measured on Node 20 / Fastify 5 before these settings: headers were cut
 * after 60–90 s (headersTimeout 60 s, checked every 30 s), idle keep-alive
 * after 72 s, and nothing else was bounded (requestTimeout 0, no socket
 * timeout): a body trickled at one byte a second, or a silent socket in the
 * middle of a request, held its connection for ever.
 */
import type { FastifyHttpOptions } from 'fastify';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { ociErrorBody } from './oci-error.js';
import { HEADERS_TIMEOUT, HEADERS_TOO_LARGE, NOT_HTTP } from './respond.js';

export interface ConnectionBounds {
  /** from a request's first byte to the end of its header block */
  readonly headersMs: number;
  /** an idle keep-alive connection between two requests */
  readonly keepAliveMs: number;
  /** a socket in the middle of a request with no byte moving either way */
  readonly idleMs: number;
  /**
   * From a request's start to the last byte of a body the gate reads whole
   * (manifests, its own JSON and form routes), and the time a client is given
   * to finish a body nobody reads any more (a refused upload) before its
   * connection is closed. Blob upload bodies are bounded by `idleMs` only.
   */
  readonly bodyMs: number;
}

/**
 * The production bounds (constants, not config):
 * - headers 15 s: a real client sends its header block in one write; Caddy
 *   sends it only once it has read it whole.
 * - keep-alive 130 s: longer than Caddy's upstream idle timeout (2 min,
 *   reverse_proxy `keepalive`), so Caddy always closes an idle connection
 *   first; were the gate first, Caddy could write a request into a socket the
 *   gate was closing and answer its client 502. Go clients (docker, skopeo,
 *   containerd) keep idle connections 90 s, also shorter.
 * - idle 5 min: as the upstream pool's bodyTimeout (proxy/upstream.ts), and
 *   longer than its header wait (`upstream.timeout`, 30 s by default), so the
 *   gate's own 502 comes before the client's socket is cut; a download whose
 *   client stops reading for 5 minutes is cut, one that keeps reading is not.
 * - body 30 s: the largest body read whole is a 4 MiB manifest, that is
 *   140 KB/s; real manifests and forms are a few KB.
 */
export const CONNECTION_BOUNDS: ConnectionBounds = Object.freeze({
  headersMs: 15_000,
  keepAliveMs: 130_000,
  idleMs: 5 * 60_000,
  bodyMs: 30_000,
});

/** The Fastify options that enforce `bounds` on the HTTP/1.1 server. */
export function serverTimeouts(bounds: ConnectionBounds) {
  return {
    keepAliveTimeout: bounds.keepAliveMs,
    // A socket timeout, reset by every byte read or written: a stalled transfer, not a long one.
    connectionTimeout: bounds.idleMs,
    // No bound on a whole request: it would cut long blob uploads (Node's own default is 300 s).
    requestTimeout: 0,
    http: {
      headersTimeout: bounds.headersMs,
      requestTimeout: 0,
      // Node looks for expired header blocks every 30 s by default: a 15 s bound would hold 45 s.
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(bounds.headersMs / 4))),
    },
    clientErrorHandler,
  } satisfies Partial<FastifyHttpOptions<Server>>;
}

/**
 * Answers what Node's HTTP parser refuses before Fastify sees a request (a
 * header timeout, oversized headers, broken HTTP) with the OCI error body,
 * then closes the connection. There is no request or reply object here, so
 * the body comes from `ociErrorBody` rather than `sendOciError`.
 */
function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const refusal = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? HEADERS_TIMEOUT : error.code === 'HPE_HEADER_OVERFLOW' ? HEADERS_TOO_LARGE : NOT_HTTP;
  // Node's rule: never write a status line into a response that has started.
  const started = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (socket.writable && !started) {
    const body = ociErrorBody(refusal);
    socket.write(
      `HTTP/1.1 ${refusal.status} ${STATUS_TEXT[refusal.status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };
