import type { IncomingHttpHeaders } from 'node:http';
import { startFaultInjector } from './faulty.js';

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
 * It is the fault injector (faulty.ts) with no fault armed: one forwarder.
 */
export function startRecorder(targetUrl: string): Promise<Recorder> {
  return startFaultInjector(targetUrl);
}
