/**
 * `/-/metrics`: the gate's own metrics, readable under the same
 * `accessControl.metrics` rules as zot's `/metrics` behind it (README, "Endpoints of
 * its own"), with the same identities as registry requests: an API key
 * (Basic), a gate token or trusted JWT (Bearer). Anonymous refusals get 401
 * and a challenge, named ones 403.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/types.js';
import { authenticate, challengeFor, principalOf, REGISTRY_AUTH, type AuthDeps } from './authenticate.js';
import { sendOciError } from './oci-error.js';
import { refusal } from './respond.js';
import { decideMetrics } from '../policy/access.js';
import type { GateMetrics } from '../observability/metrics.js';
import { noteDecision } from '../observability/observation.js';

export const METRICS_PATH = '/-/metrics';

export interface MetricsEndpointDeps {
  readonly config: () => Config;
  readonly auth: AuthDeps;
  readonly metrics: GateMetrics;
}

export function metricsEndpoint(app: FastifyInstance, deps: MetricsEndpointDeps): void {
  app.get(METRICS_PATH, async (request, reply) => {
    const config = deps.config();
    const challenge = () => challengeFor(request, config);
    const authenticated = await authenticate(request, reply, deps.auth, config, REGISTRY_AUTH, challenge);
    if (authenticated === null) return reply;
    const { identity } = authenticated;
    const decision = decideMetrics(config.accessControl, principalOf(identity));
    noteDecision(request, 'read', decision);
    if (!decision.allow) return sendOciError(request, reply, refusal(identity, { decision, what: 'read metrics' }), challenge());
    request.gateReason = decision.reason;
    const { contentType, body } = await deps.metrics.render();
    return reply.code(200).header('content-type', contentType).header('cache-control', 'no-store').send(body);
  });
}
