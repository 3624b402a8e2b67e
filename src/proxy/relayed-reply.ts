/**
 * Writes a relayed response (relay.ts) to the client's socket. The reply is
 * hijacked so each chunk's write callback can hand its buffer back to the
 * relay; Fastify's `onResponse` hooks still run (they listen on the socket).
 * Its `onSend` hooks do not: relayed requests are allowed reads, which are
 * never audit events (observability/audit-events.ts), the one thing `onSend`
 * does.
 */
import type { FastifyReply } from 'fastify';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { recycle } from './relay.js';

export function sendRelayed(reply: FastifyReply, status: number, headers: OutgoingHttpHeaders, body: Readable, onBytes: (bytes: number) => void): void {
  const res = reply.raw;
  reply.hijack();
  // The client left while the registry answered: its response closed already and will not close again.
  if (res.destroyed) return void body.destroy();
  // The headers the gate set so far (the request id) and the registry's, cleaned.
  res.writeHead(status, { ...(reply.getHeaders() as OutgoingHttpHeaders), ...headers });
  body.on('data', (chunk: Buffer) => {
    onBytes(chunk.length);
    if (!res.write(chunk, () => recycle(chunk))) body.pause();
  });
  res.on('drain', () => body.resume());
  body.once('end', () => res.end());
  // Cut short: the client must see a broken transfer, never a complete-looking one.
  body.once('error', () => res.destroy());
  res.once('close', () => {
    if (!body.readableEnded) body.destroy();
  });
}
