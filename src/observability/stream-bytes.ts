/**
 * Counts a body's bytes as its consumer reads them, at the cost of one
 * listener call per chunk: no extra stream in the pipe, no copy.
 */
import { Readable } from 'node:stream';

export function isReadable(value: unknown): value is Readable {
  return value instanceof Readable;
}

/**
 * Adds each chunk's length to `add` as it passes. A `data` listener switches
 * a stream nobody reads yet into flowing mode, and chunks would go by before
 * its consumer attaches; pausing first leaves it waiting until the consumer
 * resumes it (`pipe` and undici both do), and then both see every chunk.
 */
export function countBytes(stream: Readable, add: (bytes: number) => void): void {
  if (stream.readableFlowing !== true) stream.pause();
  stream.on('data', (chunk: Buffer | string) => add(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length));
}
