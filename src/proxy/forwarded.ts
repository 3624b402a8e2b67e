/** The name and scheme the client used, for `X-Forwarded-*` and for recognising our own `Location`s. */
import type { FastifyRequest } from 'fastify';
import type { ForwardedFor } from './headers.js';

/** Caddy in front sets `X-Forwarded-Proto: https`; the Host it passes through is the client's. */
export function forwardedFor(request: FastifyRequest): ForwardedFor {
  const proto = request.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
  return { host: request.headers.host ?? 'localhost', proto, clientIp: request.ip };
}
