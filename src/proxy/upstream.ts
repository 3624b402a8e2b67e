/**
 * The one connection pool to zot. Everything the gate sends upstream (proxied
 * requests, tag lookups, the catalog, readiness) goes through it, and every
 * failure to get an answer from it is classified here (`failureKind`) and told to the client by http/respond.ts `upstreamFailure`.
 */
import { Pool, type Dispatcher } from 'undici';

export interface Upstream {
  readonly origin: string;
  /** the dispatcher proxied requests use */
  readonly dispatcher: Dispatcher;
  /**
   * A request the gate makes on its own behalf; the body is always consumed or
   * dumped by the caller. Its headers must arrive, and its (small) body may
   * stall, no longer than `upstream.timeout`, or `timeoutMs` when shorter.
   */
  request(options: {
    method: 'GET' | 'HEAD' | 'PUT' | 'DELETE';
    path: string;
    headers?: Record<string, string | string[] | undefined>;
    body?: Buffer;
    timeoutMs?: number;
  }): Promise<Dispatcher.ResponseData>;
  close(): Promise<void>;
}

/** undici's connect default; a shorter `upstream.timeout` bounds it too. */
const CONNECT_TIMEOUT_MS = 10_000;
/**
 * How long a streamed body may stall, on either path to the registry (this
 * pool and the read relay): an idle body, not a slow one, since a multi-GiB
 * layer may take minutes in total.
 */
export const STREAM_IDLE_TIMEOUT_MS = 5 * 60_000;

export function createUpstream(origin: string, timeoutMs: number): Upstream {
  const pool = new Pool(origin, {
    connections: 128,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    connectTimeout: Math.min(timeoutMs, CONNECT_TIMEOUT_MS),
    // a registry that accepts the connection and never answers: the client gets a 504, the socket is closed
    headersTimeout: timeoutMs,
    bodyTimeout: STREAM_IDLE_TIMEOUT_MS,
  });
  // undici closes the connection after every HEAD (undici#258) unless told not to; registries
  // echo its `connection: close`, and every HEAD would then cost two new connections.
  const dispatcher = pool.compose(
    (dispatch) => (options, handler) => dispatch(options.method === 'HEAD' ? { ...options, reset: false } : options, handler),
  );
  return {
    origin,
    dispatcher,
    request: ({ timeoutMs: shorter, ...options }) => {
      // The gate's own answers are small JSON: one stalled after its headers must not hold a
      // request (or a repository's write lock, manifest-guard.ts) for the streaming idle limit.
      const limit = Math.min(shorter ?? timeoutMs, timeoutMs);
      return dispatcher.request({ ...options, headers: options.headers ?? {}, headersTimeout: limit, bodyTimeout: limit });
    },
    close: () => pool.close(),
  };
}

/** No connection could be made: nothing reached the registry. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  // the pool is closing: the gate is shutting down
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);
const TIMED_OUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** How a request to the registry failed; http/respond.ts `upstreamFailure` says what each means to the client. */
export type FailureKind = 'unreachable' | 'timeout' | 'broken';

/**
 * By undici's error code (reply-from wraps it: the code is then its
 * `cause`'s): no connection could be made (`unreachable`: nothing reached the
 * registry), connected but no answer in time (`timeout`), or the answer broke
 * off or could not be read (`broken`: the request may have reached it).
 */
export function failureKind(code: string | undefined): FailureKind {
  if (code !== undefined && UNREACHABLE.has(code)) return 'unreachable';
  if (code !== undefined && TIMED_OUT.has(code)) return 'timeout';
  return 'broken';
}

/**
 * The innermost system or undici error code along the `cause` chain: what the
 * client's `detail.upstream` and the gate's own lookups name, on every path
 * to the registry (undici, reply-from, the read relay).
 */
export function errorCode(error: unknown): string | undefined {
  let found: string | undefined;
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    // reply-from's own wrappers (FST_REPLY_FROM_…) say less than what they wrap
    if (typeof code === 'string' && !code.startsWith('FST_')) found = code;
  }
  return found;
}
