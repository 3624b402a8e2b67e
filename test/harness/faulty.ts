/**
 * A fault injector: an HTTP hop in front of the REAL registry that forwards
 * every request unchanged (as the recorder does) except those matching a fault
 * the test armed, which it answers itself with the chosen status, or by
 * dropping the connection, or holds for a while before forwarding (a slow
 * registry, to widen a race window). It is not a mock: nothing is answered but
 * the faults.
 */
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecordedRequest } from './recorder.js';

/** What to do with requests that match `method` and `path`. */
export interface Fault {
  readonly method: string;
  /** Matched against the request target without its query. */
  readonly path: string | RegExp;
  /**
   * A status to answer with an empty body (no registry headers), `reset` to
   * destroy the connection, `unframed` to forward the request and send the
   * registry's answer without its Content-Length (chunked), or `{ delayMs }`
   * to forward the request unchanged once that many milliseconds have passed.
   */
  readonly answer: number | 'reset' | 'unframed' | { readonly delayMs: number };
}

/** One request as it reached the injector. */
export interface InjectedRequest extends RecordedRequest {
  /** True when a fault answered it; it never reached the registry. A delayed request is forwarded: false. */
  readonly faulted: boolean;
  /** `performance.now()` when it arrived. */
  readonly receivedAt: number;
  /** `performance.now()` when its answer's status line went back; null until then, and for a reset. */
  readonly answeredAt: number | null;
  /** How its body ended: read to the end, or cut off by the sender (`aborted`); null while it flows. */
  readonly bodyEnd: 'complete' | 'aborted' | null;
}

export interface FaultInjector {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** `127.0.0.1:PORT`. */
  readonly host: string;
  /** In arrival order, faulted or forwarded; the same array for the injector's whole life. */
  readonly requests: InjectedRequest[];
  /** Arms a fault until {@link FaultInjector.heal}; the first armed fault that matches answers. */
  inject(fault: Fault): void;
  /** Disarms every fault: from now on everything is forwarded. */
  heal(): void;
  /** Forgets the recorded requests. */
  clear(): void;
  stop(): Promise<void>;
}

/**
 * Starts the injector on 127.0.0.1 in front of `targetUrl`. Forwarded
 * requests keep their raw headers (Host included, so the registry builds its
 * upload URLs for the injector) and stream their bodies both ways.
 */
export async function startFaultInjector(targetUrl: string): Promise<FaultInjector> {
  const target = new URL(targetUrl);
  const agent = new Agent({ keepAlive: true });
  const requests: InjectedRequest[] = [];
  const faults: Fault[] = [];
  const server = createServer({ requestTimeout: 0 }, (req, res) => {
    const method = req.method ?? '';
    const url = req.url ?? '';
    const fault = faults.find((f) => matches(f, method, url));
    const answer = fault?.answer;
    const faulted = typeof answer === 'number' || answer === 'reset';
    const entry = {
      method,
      url,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      faulted,
      receivedAt: performance.now(),
      answeredAt: null as number | null,
      bodyEnd: null as 'complete' | 'aborted' | null,
    };
    requests.push(entry);
    req.once('end', () => void (entry.bodyEnd ??= 'complete'));
    req.once('close', () => void (entry.bodyEnd ??= req.complete ? 'complete' : 'aborted'));
    const answered = () => void (entry.answeredAt = performance.now());
    if (answer === 'reset') return void req.socket.destroy();
    if (typeof answer === 'number') {
      req.resume();
      answered();
      return void res.writeHead(answer, { 'content-length': '0' }).end();
    }
    // An unread request stays paused, its body buffered, until forward() pipes it.
    const forward = () => forwardTo(target, agent, req, res, answered, answer === 'unframed');
    if (answer === undefined || answer === 'unframed') forward();
    else setTimeout(forward, answer.delayMs);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    inject: (fault) => void faults.push(fault),
    heal: () => void faults.splice(0),
    clear: () => void requests.splice(0),
    async stop() {
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}

function forwardTo(target: URL, agent: Agent, req: IncomingMessage, res: ServerResponse, answered: () => void, unframed: boolean): void {
  const upstream = request(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, agent, headers: req.rawHeaders },
    (answer) => {
      answered();
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, unframed ? withoutLength(answer.rawHeaders) : answer.rawHeaders);
      answer.on('error', (error) => res.destroy(error));
      answer.pipe(res);
    },
  );
  upstream.on('error', (error) => {
    if (res.headersSent) return void res.destroy(error);
    answered();
    res.writeHead(502, { 'content-type': 'text/plain' }).end(`fault injector: ${error.message}\n`);
  });
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}

/** Raw headers (name, value, name, value…) without Content-Length: Node then frames the body chunked. */
function withoutLength(raw: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.toLowerCase() !== 'content-length') kept.push(raw[i]!, raw[i + 1]!);
  return kept;
}

function matches(fault: Fault, method: string, url: string): boolean {
  const path = url.split('?')[0] ?? '';
  return fault.method === method && (typeof fault.path === 'string' ? fault.path === path : fault.path.test(path));
}
