/**
 * Forwarding: @fastify/http-proxy over the upstream pool. Runs only after the
 * gate hook has set `request.gate`; what is sent is the validated, canonical
 * URL the registry parser produced, never the raw request line. Manifest PUTs
 * take the write guard instead of streaming through.
 */
import httpProxy from '@fastify/http-proxy';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { uploadOwnerOf } from '../policy/uploads.js';
import { parseRequest } from '../registry/parse.js';
import type { GateMetrics } from '../observability/metrics.js';
import { countBytes, isReadable } from '../observability/stream-bytes.js';
import { upstreamTimer } from '../observability/upstream-metrics.js';
import { CLIENT_GONE, Relay, RelayError } from './relay.js';
import { sendRelayed } from './relayed-reply.js';
import { clientOrigin, forwardedFor } from './forwarded.js';
import { clientResponseHeaders, relativeLocation, upstreamRequestHeaders } from './headers.js';
import { guardManifestDelete } from './manifest-delete.js';
import { failed, guardManifestPut, type GuardOutcome, type ManifestGuardDeps, type Respond } from './manifest-guard.js';
import type { UploadSessions } from './upload-sessions.js';
import { STREAM_IDLE_TIMEOUT_MS } from './upstream.js';

export interface ForwardOptions extends ManifestGuardDeps {
  readonly uploads: UploadSessions;
  readonly metrics: GateMetrics;
  /** the gate hook, run on every proxied request before anything is forwarded; resolves to the reply when it answered */
  readonly onRequest: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;
  /** answers what was not relayed (http/respond.ts `respond`): a guard's refusal, or a failure */
  readonly respond: Respond;
}

export async function forwardPlugin(app: FastifyInstance, options: ForwardOptions): Promise<void> {
  const { upstream, uploads, metrics, respond } = options;
  // Stream every body, whatever its type: Fastify would otherwise buffer the
  // types it has parsers for (a 2 MiB text/plain PATCH hit the body limit).
  // http-proxy re-adds pass-through parsers for `application/json` and `*`.
  app.removeAllContentTypeParsers();
  // Authorise in onRequest: putting it in http-proxy's preValidation disables
  // its pass-through parsers, and every body would be buffered again.
  app.addHook('onRequest', options.onRequest);

  const origins = (request: FastifyRequest) => [upstream.origin, clientOrigin(request)];
  const relay = new Relay(upstream.origin, { headersTimeoutMs: options.config().upstream.timeoutMs, bodyIdleMs: STREAM_IDLE_TIMEOUT_MS });
  app.addHook('onClose', async () => relay.close());

  /** The registry could not be asked or did not answer: 503, 504 or 502 with an OCI body (upstream.ts), on either path. */
  const upstreamFailed = (reply: FastifyReply, error: unknown) => {
    // A client that hung up aborts its upstream request too: that is not the registry failing.
    if (reply.raw.socket?.destroyed !== true) metrics.upstreamError();
    reply.request.log.warn({ err: error }, 'upstream request failed');
    return respond(reply.request, reply, failed({ kind: 'upstream', error }));
  };

  /** A guard's outcome as the reply: the registry's answer relayed, or the stop answered. */
  const answer = (request: FastifyRequest, reply: FastifyReply) => (outcome: GuardOutcome) =>
    outcome.kind === 'relayed' ? outcome.reply : respond(request, reply, outcome);

  /**
   * Reads take the relay (relay.ts); a response the relay declines (no stated
   * length) is asked again the general way, which is safe for a read.
   */
  const relayRead = async (request: FastifyRequest, reply: FastifyReply, url: string, general: () => FastifyReply): Promise<FastifyReply> => {
    const answered = upstreamTimer(metrics, request.method);
    // A client that leaves while the registry is asked takes its request with it (relay.ts `gone`).
    const gone = new AbortController();
    const leave = () => gone.abort();
    if (reply.raw.destroyed) leave();
    else reply.raw.once('close', leave);
    let outcome;
    try {
      outcome = await relay.get(request.method as 'GET' | 'HEAD', url, upstreamRequestHeaders(request.headers, forwardedFor(request)), gone.signal);
    } catch (error) {
      if (error instanceof RelayError && error.code === CLIENT_GONE) return abandoned(request, reply);
      return upstreamFailed(reply, error);
    } finally {
      reply.raw.off('close', leave);
    }
    if (outcome.kind === 'declined') {
      request.log.debug({ relay: outcome.reason }, 'relay declined; asking the general way');
      return general();
    }
    const { status, headers, body } = outcome.response;
    answered(status);
    body.once('error', (error) => request.log.warn({ err: error }, 'body from the registry failed mid-transfer'));
    sendRelayed(reply, status, clientResponseHeaders(headers, origins(request)), body, (bytes) => metrics.sent(bytes));
    return reply;
  };

  /** An upload URL handed out belongs to whoever asked for it. */
  const bindUpload = (request: FastifyRequest, location: unknown) => {
    const gate = request.gate;
    if (gate === undefined || typeof location !== 'string') return;
    if (gate.route.kind !== 'upload-start' && gate.route.kind !== 'upload') return;
    const next = parseRequest('PATCH', relativeLocation(location, origins(request)));
    if (next.ok && next.request.route.kind === 'upload') {
      uploads.bind(next.request.route.name, next.request.route.session, uploadOwnerOf(gate.principal));
    }
  };

  await app.register(httpProxy, {
    upstream: upstream.origin,
    undici: upstream.dispatcher as never,
    prefix: '/',
    internalRewriteLocationHeader: false,
    handler: (request, reply, _dest, replyOptions) => {
      const gate = request.gate;
      // Unreachable while the hook is in place; kept so a wiring mistake fails closed.
      if (gate === undefined) throw new Error('forward: request reached the proxy without a gate decision');
      if (gate.manifestWrite !== undefined) return guardManifestPut(request, reply, gate.manifestWrite, options).then(answer(request, reply));
      if (gate.manifestDelete !== undefined) return guardManifestDelete(request, reply, gate.manifestDelete, options).then(answer(request, reply));
      const general = () => {
        streamMetrics(request, reply, metrics);
        const answered = upstreamTimer(metrics, request.method);
        return reply.from(gate.upstreamUrl, {
          ...replyOptions,
          // reply-from's default, `reply.send(res.stream)`, once the status and the body's bytes are counted
          onResponse: (_request, reply, res) => {
            const { statusCode, stream } = res as unknown as { statusCode: number; stream: Readable };
            answered(statusCode);
            countBytes(stream, (bytes) => metrics.sent(bytes));
            reply.send(stream);
          },
        });
      };
      if ((request.method === 'GET' || request.method === 'HEAD') && RELAYED.has(gate.route.kind) && !hasBody(request)) return relayRead(request, reply, gate.upstreamUrl, general);
      return general();
    },
    replyOptions: {
      // reply-from retries a GET answered 503 up to ten times by default; the client decides about retries.
      retryDelay: () => null,
      // The canonical URL carries the only query that may be sent; never fall back to the raw one.
      queryString: (search: string | undefined) => (search ?? '').replace(/^\?/, ''),
      rewriteRequestHeaders: (request, headers) => upstreamRequestHeaders(headers, forwardedFor(request as FastifyRequest)),
      rewriteHeaders: (headers, request) => {
        const out = clientResponseHeaders(headers as OutgoingHttpHeaders, request ? origins(request as FastifyRequest) : [upstream.origin]);
        if (request) bindUpload(request as FastifyRequest, out.location);
        return out as typeof headers;
      },
      onError: (reply, { error }) => void upstreamFailed(reply as FastifyReply, error),
    },
  });
}

/** The client left before anything could be sent: nothing to answer, and nobody to answer. */
function abandoned(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  request.log.debug('client went away before the registry answered');
  return reply.hijack();
}

/** Reads that go to the registry as they are (the catalog and `/v2/` are answered by the gate). */
const RELAYED = new Set(['blob', 'manifest', 'tags', 'referrers']);

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Bytes and uploads of a request streamed through: the body as undici reads
 * it, and an upload request (POST, PATCH, PUT) counted in flight until its
 * response is closed, sent or abandoned.
 */
function streamMetrics(request: FastifyRequest, reply: FastifyReply, metrics: GateMetrics): void {
  if (isReadable(request.body)) countBytes(request.body, (bytes) => metrics.received(bytes));
  const kind = request.gate?.route.kind;
  const uploading = kind === 'upload-start' || (kind === 'upload' && (request.method === 'PATCH' || request.method === 'PUT'));
  if (uploading) reply.raw.once('close', metrics.uploadStarted());
}
