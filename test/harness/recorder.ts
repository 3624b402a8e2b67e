import { Agent, createServer, request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as it reached the recorder, before forwarding. */
export interface RecordedRequest {
  readonly method: string;
  /** The request target exactly as sent, never normalised. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** As received: names in their case, repeated headers kept (`headers` merges or drops them). */
  readonly rawHeaders: readonly string[];
}

/** A transparent HTTP forwarder that remembers every request it passed on. */
export interface Recorder {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** `127.0.0.1:PORT`. */
  readonly host: string;
  /** In arrival order; the same array for the recorder's whole life. */
  readonly requests: RecordedRequest[];
  clear(): void;
  stop(): Promise<void>;
}

/**
 * Starts a forwarder on 127.0.0.1 that sends every request to `targetUrl`
 * with its raw headers — Host included, unchanged, so a registry builds its
 * upload URLs for the recorder, not for itself — and streams bodies both ways.
 */
export async function startRecorder(targetUrl: string): Promise<Recorder> {
  const target = new URL(targetUrl);
  const agent = new Agent({ keepAlive: true });
  const requests: RecordedRequest[] = [];
  // requestTimeout 0: a multi-GiB upload may take longer than Node's default 300 s.
  const server = createServer({ requestTimeout: 0 }, (req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders });
    const options = { host: target.hostname, port: target.port, method: req.method, path: req.url, agent };
    // An array of raw headers keeps order, case and duplicates, and stops Node adding its own Host.
    const upstream = request({ ...options, headers: req.rawHeaders }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
      answer.on('error', (error) => res.destroy(error));
      answer.pipe(res);
    });
    upstream.on('error', (error) => {
      if (res.headersSent) res.destroy(error);
      else res.writeHead(502, { 'content-type': 'text/plain' }).end(`recorder: ${error.message}\n`);
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
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
    clear: () => void requests.splice(0),
    async stop() {
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}
