/**
 * The gate's own probes: `/-/healthz` (the process is alive) and `/-/readyz`
 * (the upstream answers). The IdP's state is reported but not required: the
 * gate serves pulls and key pushes while the IdP is down. Neither waits on
 * the IdP; readiness waits on the registry at most READY_TIMEOUT_MS.
 */
import type { FastifyInstance } from 'fastify';
import { errorCode, failureKind, type Upstream } from '../proxy/upstream.js';
import type { OidcClient } from '../sso/oidc-client.js';

/** However long `upstream.timeout` is, a hung registry makes the gate not ready within this. */
export const READY_TIMEOUT_MS = 5_000;

export function healthRoutes(app: FastifyInstance, upstream: Upstream, providers: ReadonlyMap<string, OidcClient>): void {
  app.get('/-/healthz', async (_request, reply) => reply.code(200).send({ status: 'ok' }));

  app.get('/-/readyz', async (_request, reply) => {
    const upstreamState = await probe(upstream);
    const ready = upstreamState === 'ok';
    const idp = Object.fromEntries([...providers].map(([id, client]) => [id, client.state.kind]));
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not-ready', upstream: upstreamState, ...(providers.size > 0 ? { idp } : {}) });
  });
}

async function probe(upstream: Upstream): Promise<string> {
  try {
    const response = await upstream.request({ method: 'GET', path: '/v2/', timeoutMs: READY_TIMEOUT_MS });
    await response.body.dump();
    // zot without auth answers 200; anything below 500 still proves it is serving.
    return response.statusCode < 500 ? 'ok' : `status ${response.statusCode}`;
  } catch (error) {
    const kind = failureKind(errorCode(error));
    return `${kind === 'broken' ? 'error' : kind}: ${(error as Error).message}`;
  }
}
