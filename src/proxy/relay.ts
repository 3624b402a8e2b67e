/**
 * The short path for reads (issue 7). A general HTTP client pays per 64 KiB
 * chunk — one read, one parser pass, one stream hop, one write — and per
 * request for its generality. Reads without a request body (GET and HEAD of
 * blobs, manifests, tag lists, referrers) take this relay instead: the
 * registry's socket reads straight into 1 MiB buffers (`onread`), each read is
 * handed to the client's response as it is — no copy, no parser — and the
 * registry's own Content-Length frames the body. Measured in docs/BENCHMARKS.md.
 *
 * Only a response with a stated length is relayed (or any answer to a HEAD):
 * anything else (chunked, no length, a malformed head) is `declined`, and the
 * caller asks again the general way (undici), which is safe for a read.
 * Connections are kept alive in a small idle list; a kept connection found
 * closed before it answered is replaced once, as any HTTP client does for an
 * idempotent request.
 */
import net from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { parseResponseHead, type ResponseHead } from './response-head.js';
import { errorCode } from './upstream.js';

export interface RelayOptions {
  /** to the end of the response head, from the moment a connection is asked for */
  readonly headersTimeoutMs: number;
  /** the longest the registry may leave a body stalled while the client is reading */
  readonly bodyIdleMs: number;
}

export interface RelayedResponse extends ResponseHead {
  /** exactly `length` bytes, then end; destroyed with an error if the registry stops short */
  readonly body: Readable;
}

export type RelayOutcome = { readonly kind: 'response'; readonly response: RelayedResponse } | { readonly kind: 'declined'; readonly reason: string };

/** An upstream failure, with a code like undici's so one renderer serves both paths. */
export class RelayError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'RelayError';
  }
}

const READ_SIZE = 1024 * 1024;
/** below this a read is copied out, so a trickle never pins a 1 MiB buffer per chunk */
const COPY_BELOW = 64 * 1024;
/** a body with less than this left is read through the shared buffer */
const BIG_BODY = 256 * 1024;
const MAX_IDLE = 16;
const MAX_ACTIVE = 128;
/** shorter than any registry's idle timeout, so a kept connection is rarely found closed */
const IDLE_MS = 4_000;
/** head bytes and small reads land here and are copied out at once; the event loop is single-threaded */
const SHARED = Buffer.allocUnsafe(COPY_BELOW);
/** read buffers the client's socket has finished with, for the next read; a few transfers' worth */
const SPARE_BUFFERS: Buffer[] = [];
const MAX_SPARE_BUFFERS = 16;
/** the memory of every read buffer the relay made, so only those are ever taken back */
const OURS = new WeakSet<ArrayBufferLike>();

function readBuffer(): Buffer {
  const reused = SPARE_BUFFERS.pop();
  if (reused !== undefined) return reused;
  const made = Buffer.allocUnsafeSlow(READ_SIZE);
  OURS.add(made.buffer);
  return made;
}

/**
 * Takes a body chunk back once the client's socket has written it (its write
 * callback), so a long transfer cycles through a few buffers instead of
 * leaving a garbage 1 MiB buffer per read. Chunks that are not a relay read
 * buffer are left alone.
 */
export function recycle(chunk: Buffer): void {
  if (chunk.byteOffset !== 0 || !OURS.has(chunk.buffer) || SPARE_BUFFERS.length >= MAX_SPARE_BUFFERS) return;
  SPARE_BUFFERS.push(Buffer.from(chunk.buffer, 0, READ_SIZE));
}

export class Relay {
  readonly #host: string;
  readonly #port: number;
  /** `host[:port]` as the Host header spells it (an IPv6 literal in brackets) */
  readonly #authority: string;
  /** the relay speaks plain HTTP/1.1; an https upstream is left to undici */
  readonly #plain: boolean;
  readonly #options: RelayOptions;
  readonly #idle: Connection[] = [];
  #active = 0;
  #closed = false;

  /** `options` hold for every request and connection of this relay. */
  constructor(origin: string, options: RelayOptions) {
    this.#options = options;
    const url = new URL(origin);
    this.#plain = url.protocol === 'http:';
    // `new URL` keeps an IPv6 literal's brackets, which net.connect does not take.
    this.#host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.#port = Number(url.port || 80);
    this.#authority = url.host;
  }

  /**
   * Asks for `path` (already canonical) with `headers` (already cleaned for the
   * upstream). `gone` aborts when the client leaves: a request still waiting
   * for its answer then closes its connection (the answer is of no use, and a
   * connection with an answer in flight cannot be kept), and the call rejects
   * with a `CLIENT_GONE` RelayError.
   */
  async get(method: 'GET' | 'HEAD', path: string, headers: IncomingHttpHeaders, gone: AbortSignal): Promise<RelayOutcome> {
    if (!this.#plain) return { kind: 'declined', reason: 'https upstream' };
    if (this.#closed) return { kind: 'declined', reason: 'relay closed' };
    if (this.#active >= MAX_ACTIVE) return { kind: 'declined', reason: 'relay busy' };
    const head = requestHead(method, path, this.#authority, headers);
    if (head === null) return { kind: 'declined', reason: 'unsendable header' };
    this.#active++;
    try {
      const kept = this.#idle.pop();
      if (kept !== undefined) {
        try {
          return await kept.exchange(head, method === 'HEAD', gone);
        } catch (error) {
          if (!(error instanceof StaleConnection)) throw error;
        }
      }
      const fresh = await Connection.open(this.#host, this.#port, this.#options, (c) => this.#release(c), gone);
      return await fresh.exchange(head, method === 'HEAD', gone);
    } finally {
      this.#active--;
    }
  }

  /** Closes kept connections; bodies being streamed finish. */
  close(): void {
    this.#closed = true;
    for (const connection of this.#idle.splice(0)) connection.destroy();
  }

  #release(connection: Connection): void {
    if (this.#closed || this.#idle.length >= MAX_IDLE) return connection.destroy();
    this.#idle.push(connection);
    connection.idle(IDLE_MS, () => {
      const at = this.#idle.indexOf(connection);
      if (at !== -1) this.#idle.splice(at, 1);
    });
  }
}

/** The code of the RelayError a request rejects with when its client left before the answer came. */
export const CLIENT_GONE = 'CLIENT_GONE';

function clientGone(): RelayError {
  return new RelayError('the client went away before the registry answered', CLIENT_GONE);
}

/** A kept connection was closed by the registry before it answered: safe to retry elsewhere. */
class StaleConnection extends Error {}

type State =
  | { readonly kind: 'idle' }
  | { readonly kind: 'head'; received: Buffer; readonly toHead: boolean; readonly settle: (outcome: RelayOutcome | Error) => void }
  | { readonly kind: 'body'; remaining: number; readonly reusable: boolean; readonly body: Readable };

class Connection {
  #state: State = { kind: 'idle' };
  /** the buffer of the read in progress when it is this connection's own (body reads) */
  #spare: Buffer | null = null;
  #used = false;
  #onIdleGone: (() => void) | null = null;

  #onStall: () => void = () => undefined;

  private constructor(
    readonly socket: net.Socket,
    readonly options: RelayOptions,
    readonly release: (connection: Connection) => void,
  ) {
    // One listener for the connection's life: `setTimeout(ms, fn)` would add one per call.
    socket.on('timeout', () => this.#onStall());
  }

  /** Arms the socket's inactivity clock for `ms` (0 disarms it). */
  clock(ms: number, onStall: () => void = () => undefined): void {
    this.#onStall = onStall;
    this.socket.setTimeout(ms);
  }

  static open(host: string, port: number, options: RelayOptions, release: (c: Connection) => void, gone: AbortSignal): Promise<Connection> {
    if (gone.aborted) return Promise.reject(clientGone());
    return new Promise((resolve, reject) => {
      const holder: { connection?: Connection } = {};
      const socket = net.connect({
        host,
        port,
        noDelay: true,
        onread: { buffer: () => holder.connection?.nextBuffer() ?? SHARED, callback: (n, buf) => {
            holder.connection?.onRead(n, buf as Buffer);
            return true;
          },
        },
      });
      const connection = (holder.connection = new Connection(socket, options, release));
      const fail = (error: Error) =>
        reject(error instanceof RelayError && error.code === CLIENT_GONE ? error : new RelayError(`cannot connect to the registry: ${error.message}`, errorCode(error) ?? 'UND_ERR_SOCKET'));
      const leave = () => socket.destroy(clientGone());
      socket.once('error', fail);
      gone.addEventListener('abort', leave, { once: true });
      connection.clock(options.headersTimeoutMs, () => socket.destroy(new RelayError('connecting to the registry timed out', 'UND_ERR_CONNECT_TIMEOUT')));
      socket.once('connect', () => {
        gone.removeEventListener('abort', leave);
        socket.off('error', fail);
        connection.clock(0);
        socket.on('error', (error) => connection.fail(error));
        socket.on('close', () => connection.fail(new RelayError('the registry closed the connection', 'UND_ERR_SOCKET')));
        resolve(connection);
      });
    });
  }

  /** Sends one request head and resolves with the response head (or the reason it is not streamed here). */
  exchange(head: string, toHead: boolean, gone: AbortSignal): Promise<RelayOutcome> {
    const reused = this.#used;
    this.#used = true;
    this.#onIdleGone = null;
    if (gone.aborted) {
      // Not sent: the connection is as good as it was.
      this.release(this);
      return Promise.reject(clientGone());
    }
    return new Promise<RelayOutcome>((resolve, reject) => {
      const leave = () => this.destroy(clientGone());
      gone.addEventListener('abort', leave, { once: true });
      const state: Extract<State, { kind: 'head' }> = {
        kind: 'head',
        received: Buffer.alloc(0),
        toHead,
        settle: (outcome) => {
          gone.removeEventListener('abort', leave);
          this.clock(0);
          if (!(outcome instanceof Error)) return resolve(outcome);
          // A kept connection that closed before a byte of the answer: the request never reached a handler.
          const stale = reused && state.received.length === 0 && !(outcome instanceof RelayError && outcome.code === CLIENT_GONE);
          reject(stale ? new StaleConnection(outcome.message) : outcome);
        },
      };
      this.#state = state;
      this.clock(this.options.headersTimeoutMs, () =>
        this.destroy(new RelayError('the registry did not answer in time', 'UND_ERR_HEADERS_TIMEOUT')),
      );
      this.socket.write(head);
    });
  }

  idle(ms: number, gone: () => void): void {
    this.#onIdleGone = gone;
    this.clock(ms, () => this.destroy());
  }

  destroy(error?: Error): void {
    this.socket.destroy(error);
  }

  /** The socket failed or closed: whoever is waiting on it hears about it. */
  fail(error: Error): void {
    const state = this.#state;
    this.#state = { kind: 'idle' };
    if (state.kind === 'head') state.settle(error);
    else if (state.kind === 'body') state.body.destroy(error);
    this.#onIdleGone?.();
    this.#onIdleGone = null;
    this.socket.destroy();
  }

  nextBuffer(): Buffer {
    const state = this.#state;
    if (state.kind === 'body' && state.remaining >= BIG_BODY) return (this.#spare ??= readBuffer());
    this.#spare = null;
    return SHARED;
  }

  onRead(n: number, buf: Buffer): void {
    const own = buf !== SHARED && n >= COPY_BELOW;
    // A read handed on keeps its buffer; the next read needs a new one.
    if (own) this.#spare = null;
    const bytes = own ? buf.subarray(0, n) : Buffer.from(buf.subarray(0, n));
    const state = this.#state;
    if (state.kind === 'idle') return this.destroy(new RelayError('the registry sent bytes nobody asked for', 'UND_ERR_SOCKET'));
    if (state.kind === 'head') return this.#onHead(state, bytes);
    this.#onBody(state, bytes);
  }

  #onHead(state: Extract<State, { kind: 'head' }>, bytes: Buffer): void {
    state.received = state.received.length === 0 ? bytes : Buffer.concat([state.received, bytes]);
    const parsed = parseResponseHead(state.received, state.toHead);
    if (parsed.kind === 'partial') return;
    if (parsed.kind === 'unsupported') {
      this.#state = { kind: 'idle' };
      state.settle({ kind: 'declined', reason: parsed.problem });
      return this.destroy();
    }
    const { head } = parsed;
    const body = new Readable({
      highWaterMark: READ_SIZE,
      read: () => {
        if (this.#state.kind !== 'body') return;
        this.clock(this.options.bodyIdleMs, () => this.destroy(new RelayError('the registry stalled mid-body', 'UND_ERR_BODY_TIMEOUT')));
        this.socket.resume();
      },
      destroy: (error, done) => {
        // The client went away (or the registry did): the rest of this body is of no use on this connection.
        if (this.#state.kind === 'body' && this.#state.body === body) {
          this.#state = { kind: 'idle' };
          this.socket.destroy();
        }
        done(error);
      },
    });
    this.#state = { kind: 'body', remaining: head.length, reusable: head.reusable, body };
    state.settle({ kind: 'response', response: { ...head, body } });
    this.#onBody(this.#state, state.received.subarray(parsed.bytes));
  }

  #onBody(state: Extract<State, { kind: 'body' }>, bytes: Buffer): void {
    // Bytes past the stated length are not this body's: the client gets exactly
    // what was announced, and a connection out of step is not kept.
    const overrun = bytes.length > state.remaining;
    const part = overrun ? bytes.subarray(0, state.remaining) : bytes;
    state.remaining -= part.length;
    const more = part.length === 0 || state.body.push(part);
    if (state.remaining === 0) {
      this.#state = { kind: 'idle' };
      state.body.push(null);
      return state.reusable && !overrun ? this.release(this) : this.destroy();
    }
    if (!more) {
      // The client is slower than the registry: stop reading, and stop the stall clock with it.
      this.socket.pause();
      this.clock(0);
    }
  }
}

/** The request head, or null when a header value could split it (never expected from Node's parser). */
function requestHead(method: 'GET' | 'HEAD', path: string, host: string, headers: IncomingHttpHeaders): string | null {
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === 'host' || name === 'content-length') continue;
    for (const one of Array.isArray(value) ? value : [value]) {
      if (/[\r\n\0]/.test(one) || /[\r\n\0:]/.test(name)) return null;
      head += `${name}: ${one}\r\n`;
    }
  }
  return `${head}\r\n`;
}
