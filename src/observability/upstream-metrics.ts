/**
 * Times the requests the gate sends to the registry behind it, to their
 * response headers. Two doors lead there: `Upstream.request` (tag lookups,
 * manifest writes and deletes, the catalog, readiness), wrapped here, and
 * @fastify/reply-from for streamed traffic, which forward.ts times with
 * `upstreamTimer`. The dispatcher itself is left as it is: its `request()` is
 * tuned for streaming (upstream.ts), and a composed wrapper would bypass that.
 */
import type { Upstream } from '../proxy/upstream.js';
import type { GateMetrics } from './metrics.js';

/** Starts timing one upstream request; call the result with the status when its headers arrive. */
export function upstreamTimer(metrics: GateMetrics, method: string): (status: number) => void {
  const started = performance.now();
  return (status) => metrics.upstream(method, (performance.now() - started) / 1000, status);
}

/** The same upstream, with its `request` timed and its failures counted. */
export function observeUpstream(upstream: Upstream, metrics: GateMetrics): Upstream {
  return {
    origin: upstream.origin,
    dispatcher: upstream.dispatcher,
    request: async (options) => {
      const answered = upstreamTimer(metrics, options.method);
      try {
        const response = await upstream.request(options);
        answered(response.statusCode);
        return response;
      } catch (error) {
        metrics.upstreamError();
        throw error;
      }
    },
    close: () => upstream.close(),
  };
}
