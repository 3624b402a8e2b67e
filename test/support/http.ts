/**
 * A raw HTTP client for tests: the request line goes out exactly as written
 * (fetch would normalise `..` and `%2e`, hiding the attacks under test).
 */
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  json<T = unknown>(): T;
}

export interface RawRequest {
  readonly method?: string;
  readonly path: string;
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: string | Buffer;
  /** the address to connect from (one of this host's), so the gate sees another peer than 127.0.0.1 */
  readonly localAddress?: string;
}

export function send(baseUrl: string, options: RawRequest): Promise<RawResponse> {
  const base = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: base.hostname, port: base.port, method: options.method ?? 'GET', path: options.path, headers: options.headers, agent: false, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body) as T });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** `{"errors":[{code,message,detail}]}` → the first error. */
/** The body the gate renders for one OCI error (src/http/oci-error.ts), to compare with. */
export function ociBody(code: string, message: string, reason: string): { errors: Array<{ code: string; message: string; detail: { reason: string } }> } {
  return { errors: [{ code, message, detail: { reason } }] };
}

export function ociError(response: RawResponse): { code: string; message: string; detail: { reason: string } & Record<string, unknown> } {
  return response.json<{ errors: Array<{ code: string; message: string; detail: { reason: string } }> }>().errors[0]!;
}
