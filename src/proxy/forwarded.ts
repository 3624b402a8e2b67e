/** The name and scheme the client used, for `X-Forwarded-*` and for recognising our own `Location`s. */
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/types.js';
import type { ForwardedFor } from './headers.js';

/** Caddy in front sets `X-Forwarded-Proto: https`; the Host it passes through is the client's. */
export function clientOrigin(request: FastifyRequest): string {
  const proto = request.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
  return `${proto}://${request.headers.host ?? 'localhost'}`;
}

export function forwardedFor(request: FastifyRequest): ForwardedFor {
  const proto = request.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
  return { host: request.headers.host ?? 'localhost', proto, clientIp: clientIp(request) };
}

/**
 * The client's address (Caddy's X-Forwarded-For is trusted from loopback).
 * Read defensively: once the client has gone, the socket has no address and
 * Fastify's `request.ip` throws.
 */
function clientIp(request: FastifyRequest): string {
  try {
    return request.ip ?? '';
  } catch {
    return '';
  }
}

/** The origin clients use: `externalUrl`, else what this request came in on. */
export function publicOrigin(request: FastifyRequest, config: Config): string {
  return config.externalUrl ?? clientOrigin(request);
}

/** The Docker token flow's `service`: the registry's host name, which gate tokens carry as their audience. */
export function serviceOf(request: FastifyRequest, config: Config): string {
  return new URL(publicOrigin(request, config)).host;
}
