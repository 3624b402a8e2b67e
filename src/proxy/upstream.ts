/**
 * The one connection pool to zot. Everything the gate sends upstream (proxied
 * requests, tag lookups, the catalog, readiness) goes through it.
 */
import { Pool, type Dispatcher } from 'undici';

export interface Upstream {
  readonly origin: string;
  /** the dispatcher proxied requests use */
  readonly dispatcher: Dispatcher;
  /** a request the gate makes on its own behalf; the body is always consumed or dumped by the caller */
  request(options: {
    method: 'GET' | 'HEAD' | 'PUT' | 'DELETE';
    path: string;
    headers?: Record<string, string | string[] | undefined>;
    body?: Buffer;
  }): Promise<Dispatcher.ResponseData>;
  close(): Promise<void>;
}

export function createUpstream(origin: string, timeoutMs: number): Upstream {
  const pool = new Pool(origin, {
    connections: 128,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: timeoutMs,
    // an idle stream, not a slow one: a multi-GiB layer may take minutes in total
    bodyTimeout: 5 * 60_000,
  });
  // undici closes the connection after every HEAD (undici#258) unless told not to; registries
  // answer HEAD without a body, so keep the connection (FIELD-NOTES pitfall 5).
  const dispatcher = pool.compose(
    (dispatch) => (options, handler) => dispatch(options.method === 'HEAD' ? { ...options, reset: false } : options, handler),
  );
  return {
    origin,
    dispatcher,
    request: (options) => dispatcher.request({ ...options, headers: options.headers ?? {} }),
    close: () => pool.close(),
  };
}
