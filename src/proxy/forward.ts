/**
 * Forwarding: @fastify/http-proxy over the upstream pool. Runs only after the
 * gate hook has set `request.gate`; what is sent is the validated, canonical
 * URL the registry parser produced, never the raw request line.
 */
import httpProxy from '@fastify/http-proxy';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OutgoingHttpHeaders } from 'node:http';
import { sendOciError } from '../http/oci-error.js';
import { clientResponseHeaders, upstreamRequestHeaders, type ForwardedFor } from './headers.js';
import type { Upstream } from './upstream.js';

export interface ForwardOptions {
  readonly upstream: Upstream;
  /** the gate hook, run on every proxied request before anything is forwarded */
  readonly onRequest: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

export async function forwardPlugin(app: FastifyInstance, options: ForwardOptions): Promise<void> {
  // Stream every body, whatever its type: Fastify would otherwise buffer the
  // types it has parsers for (a text/plain PATCH hit the body limit, FIELD-NOTES 3).
  // http-proxy re-adds pass-through parsers for `application/json` and `*`.
  app.removeAllContentTypeParsers();
  // Authorise in onRequest: putting it in http-proxy's preValidation disables
  // its pass-through parsers (FIELD-NOTES 4).
  app.addHook('onRequest', options.onRequest);

  await app.register(httpProxy, {
    upstream: options.upstream.origin,
    undici: options.upstream.dispatcher as never,
    prefix: '/',
    internalRewriteLocationHeader: false,
    handler: (request, reply, _dest, replyOptions) => {
      const gate = request.gate;
      // Unreachable while the hook is in place; kept so a wiring mistake fails closed.
      if (gate === undefined) throw new Error('forward: request reached the proxy without a gate decision');
      return reply.from(gate.upstreamUrl, replyOptions);
    },
    replyOptions: {
      // The canonical URL carries the only query that may be sent; never fall back to the raw one.
      queryString: (search: string | undefined) => (search ?? '').replace(/^\?/, ''),
      rewriteRequestHeaders: (request, headers) => upstreamRequestHeaders(headers, forwardedFor(request as FastifyRequest)),
      rewriteHeaders: (headers, request) => {
        const forwarded = request === undefined ? null : forwardedFor(request as FastifyRequest);
        const origins = [options.upstream.origin, ...(forwarded ? [`${forwarded.proto}://${forwarded.host}`] : [])];
        return clientResponseHeaders(headers as OutgoingHttpHeaders, origins) as typeof headers;
      },
      onError: (reply, { error }) => {
        reply.request.log.warn({ err: error }, 'upstream request failed');
        sendOciError(reply.request as FastifyRequest, reply as FastifyReply, {
          status: 502,
          code: 'UNAVAILABLE',
          message: 'the registry behind the gate did not answer',
          reason: 'upstream-error',
        });
      },
    },
  });
}

/** The name and scheme the client used; Caddy in front sets `X-Forwarded-Proto`. */
export function forwardedFor(request: FastifyRequest): ForwardedFor {
  const proto = request.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
  return { host: request.headers.host ?? 'localhost', proto, clientIp: request.ip };
}
