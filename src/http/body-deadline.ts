/**
 * A time bound on request bodies (slowloris). Node bounds the header block
 * (connection-bounds.ts) but not a body: a client trickling one byte a second
 * holds its socket, and the handler waiting on it, for ever — even after the
 * gate has answered, since Node keeps reading a refused request's body to
 * reuse the connection.
 *
 * - A body the gate reads whole (its own JSON and form routes, a manifest
 *   PUT) must arrive within `bodyMs` of the request's start. It is read
 *   through a stream that fails with a 408 at the deadline; the error handler
 *   answers it and the connection is closed (the rest of the body is never
 *   read, so the socket cannot serve another request).
 * - Any other unfinished body at the deadline — one the gate already answered
 *   (a refusal) or streams upstream — has its connection closed.
 * - A blob upload body (POST/PATCH/PUT to `/blobs/uploads/`) may take as long
 *   as it keeps moving: only the socket's idle timeout bounds it. Once it is
 *   answered, the client has `bodyMs` to finish sending it.
 */
import type { Socket } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseRequest } from '../registry/parse.js';

/** The body did not arrive in time; rendered as a 408 by the error handler. */
export class BodyTimeoutError extends Error {
  override readonly name = 'BodyTimeoutError';
  readonly code = 'BODY_TIMEOUT';
  /** what Fastify's error path reads */
  readonly statusCode = 408;
  readonly reason = 'body-timeout';

  constructor(ms: number) {
    super(`the request body did not arrive within ${formatSeconds(ms)}`);
  }
}

export interface BodyDeadlineHooks {
  /** root `onRequest`: arms the deadline */
  readonly onRequest: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** root `preParsing`: hands bodies read whole to their reader through the deadline stream */
  readonly preParsing: (request: FastifyRequest, reply: FastifyReply, payload: Readable) => Promise<Readable>;
}

/** Builds the two hooks; register both at the root, before any plugin. */
export function bodyDeadline(bodyMs: number): BodyDeadlineHooks {
  /** requests whose body is under the deadline, and the stream their reader reads, once there is one */
  const bounded = new WeakMap<FastifyRequest, { stream?: PassThrough; payload?: Readable }>();

  const expire = (request: FastifyRequest, reply: FastifyReply, socket: Socket) => {
    const reading = bounded.get(request);
    if (reading?.stream !== undefined && reading.payload !== undefined && !reply.raw.headersSent) {
      // The reader fails and the error handler answers; the unread rest means no keep-alive.
      reply.header('connection', 'close');
      reading.payload.unpipe(reading.stream);
      reading.stream.destroy(new BodyTimeoutError(bodyMs));
      return;
    }
    request.log.info({ bodyMs }, 'request body still arriving at its deadline: connection closed');
    socket.destroy();
  };

  return {
    async onRequest(request, reply) {
      // Taken now: once undici has streamed a body upstream it sets the request's `socket` to null.
      const socket = request.raw.socket as Socket | null;
      if (!hasBody(request) || request.raw.complete || socket === null) return;
      if (isBlobUpload(request)) {
        // Long is fine while the upload is forwarded; after the answer, the rest is only discarded.
        reply.raw.once('finish', () => {
          if (!request.raw.complete) armTimer(request, socket, bodyMs, () => socket.destroy());
        });
        return;
      }
      bounded.set(request, {});
      armTimer(request, socket, bodyMs, () => expire(request, reply, socket));
    },

    async preParsing(request, _reply, payload) {
      const reading = bounded.get(request);
      // Bodies streamed upstream stay untouched; only the gate's own routes and manifest PUTs read whole.
      if (reading === undefined || (request.gate !== undefined && request.gate.manifestWrite === undefined)) return payload;
      const stream = new PassThrough();
      payload.on('error', (error) => stream.destroy(error));
      payload.pipe(stream);
      reading.stream = stream;
      reading.payload = payload;
      return stream;
    },
  };
}

/** Runs `expire` after `ms` unless the body has arrived or the connection has gone by then. */
function armTimer(request: FastifyRequest, socket: Socket, ms: number, expire: () => void): void {
  const { raw } = request;
  const clear = () => {
    clearTimeout(timer);
    raw.off('end', clear);
    socket.off('close', clear);
  };
  const timer = setTimeout(() => {
    clear();
    if (!raw.complete && !socket.destroyed) expire();
  }, ms);
  raw.once('end', clear);
  socket.once('close', clear);
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** dist-spec: POST starts (or, monolithic, is) an upload; PATCH sends a chunk; PUT closes it, with a last chunk. */
function isBlobUpload(request: FastifyRequest): boolean {
  const method = request.method;
  if (method !== 'POST' && method !== 'PATCH' && method !== 'PUT') return false;
  const parsed = parseRequest(method, request.raw.url ?? '');
  if (!parsed.ok) return false;
  const kind = parsed.request.route.kind;
  return (kind === 'upload-start' && method === 'POST') || (kind === 'upload' && method !== 'POST');
}

function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}
