/** The name and scheme the client used, for `X-Forwarded-*` and for recognising our own `Location`s. */
import type { FastifyRequest } from 'fastify';
import type { ForwardedFor } from './headers.js';

/** Caddy in front sets `X-Forwarded-Proto: https`; the Host it passes through is the client's. */
export function clientOrigin(request: FastifyRequest): string {
  return `${clientProto(request)}://${request.headers.host ?? 'localhost'}`;
}

export function forwardedFor(request: FastifyRequest): ForwardedFor {
  return { host: request.headers.host ?? 'localhost', proto: clientProto(request), clientIp: clientIp(request), requestId: request.id };
}

/**
 * The scheme the client used: `X-Forwarded-Proto` when a trusted proxy
 * (`auth.trustedProxies`) sent it — Fastify's `request.protocol` reads it from
 * those peers only — else the socket's. Read defensively, as clientIp().
 */
export function clientProto(request: FastifyRequest): 'http' | 'https' {
  try {
    return request.protocol === 'https' ? 'https' : 'http';
  } catch {
    return 'http';
  }
}

/**
 * The client's address: the rightmost address of the chain (the socket's,
 * then X-Forwarded-For from the right) that is not a trusted proxy
 * (`auth.trustedProxies`). Read defensively: once the client has gone, the
 * socket has no address and Fastify's `request.ip` throws.
 */
function clientIp(request: FastifyRequest): string {
  try {
    return request.ip ?? '';
  } catch {
    return '';
  }
}
