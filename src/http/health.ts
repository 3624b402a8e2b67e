/** The gate's own probes: `/-/healthz` (alive) and `/-/readyz` (the upstream answers). */
import type { FastifyInstance } from 'fastify';
import type { Upstream } from '../proxy/upstream.js';

export function healthRoutes(app: FastifyInstance, upstream: Upstream): void {
  app.get('/-/healthz', async (_request, reply) => reply.code(200).send({ status: 'ok' }));

  app.get('/-/readyz', async (_request, reply) => {
    const upstreamState = await probe(upstream);
    const ready = upstreamState === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', upstream: upstreamState });
  });
}

async function probe(upstream: Upstream): Promise<string> {
  try {
    const response = await upstream.request({ method: 'GET', path: '/v2/' });
    await response.body.dump();
    // zot without auth answers 200; anything below 500 still proves it is serving.
    return response.statusCode < 500 ? 'ok' : `status ${response.statusCode}`;
  } catch (error) {
    return `unreachable: ${(error as Error).message}`;
  }
}
