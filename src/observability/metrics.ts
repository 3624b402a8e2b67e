/**
 * zot-gate's own Prometheus metrics, in a registry of their own (never
 * prom-client's global one). Every label takes its values from a set fixed in
 * code, so no client can grow the number of series: routes are RegistryRoute
 * kinds or the gate's endpoint names, methods a known list or `other`,
 * reasons the kebab-case literals the code decides with.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ThrottleScope } from '../policy/throttle.js';
import type { CredentialReason, Reason } from '../policy/types.js';
import { keyExpired } from '../policy/api-key.js';
import type { AuthMethod, ApiKeyRecord } from '../identity/types.js';
import type { Action } from '../registry/types.js';
import { processMetrics } from './process-metrics.js';

/** What a decision was about: a repository action, `/v2/` itself, or nothing any identity could be granted. */
export type DecisionAction = Action | 'base' | 'none';

/** How a request tried to authenticate; `unknown` when the header was too malformed to tell. */
/** `cli`: the operator at the command line (`zot-gate apikey`), audited but never a request. */
export type AuthLabel = AuthMethod | 'anonymous' | 'unknown' | 'cli';

/** Why an upstream request counts as failed: no usable answer, or a 5xx answer. */
export type UpstreamErrorKind = 'network' | 'server-error';

export interface KeyCounts {
  readonly active: number;
  readonly expired: number;
}

export interface MetricsOptions {
  /** counts API keys at scrape time; null when they cannot be counted (the gauge then has no samples) */
  readonly countKeys?: () => Promise<KeyCounts | null>;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** An HTTP method as a label: methods are open-ended tokens (RFC 9110 §9.1), labels must not be. */
export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : 'other';
}

// Registry traffic spans milliseconds (HEAD) to minutes (a multi-GiB layer).
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const UPSTREAM_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The gate's metrics and the words to record them with. */
export class GateMetrics {
  readonly #own = new Registry();
  readonly #all: Registry;
  readonly #requests = this.#counter('zot_gate_requests_total', 'Requests answered, by route kind, method and status.', ['route', 'method', 'status']);
  readonly #requestSeconds = new Histogram({
    name: 'zot_gate_request_duration_seconds',
    help: 'Time from receiving a request to the end of its response, by route kind and method.',
    labelNames: ['route', 'method'],
    buckets: REQUEST_BUCKETS,
    registers: [this.#own],
  });
  readonly #decisions = this.#counter('zot_gate_decisions_total', 'Authorization decisions, by action, result (allow|deny) and reason.', ['action', 'result', 'reason']);
  readonly #auth = this.#counter('zot_gate_auth_total', 'Authentications, by method and result (ok|fail); reason says why one failed.', ['method', 'result', 'reason']);
  readonly #upstreamSeconds = new Histogram({
    name: 'zot_gate_upstream_request_duration_seconds',
    help: 'Time from sending a request to the registry behind the gate to its response headers, by method.',
    labelNames: ['method'],
    buckets: UPSTREAM_BUCKETS,
    registers: [this.#own],
  });
  readonly #upstreamErrors = this.#counter('zot_gate_upstream_errors_total', 'Requests to the registry behind the gate that failed (network) or got a 5xx (server-error).', ['kind']);
  readonly #received = this.#counter('zot_gate_bytes_received_total', 'Request body bytes streamed through the gate to the registry.', []);
  readonly #sent = this.#counter('zot_gate_bytes_sent_total', 'Response body bytes streamed through the gate from the registry.', []);
  readonly #uploads = new Gauge({ name: 'zot_gate_uploads_in_flight', help: 'Blob upload requests being streamed to the registry now.', registers: [this.#own] });
  readonly #immutable = this.#counter('zot_gate_immutability_refusals_total', 'Overwrites and deletes refused because an immutableTags rule freezes the tag, by action.', ['action']);
  readonly #throttled = this.#counter('zot_gate_auth_throttled_total', 'Requests with credentials answered 429 because failed authentications locked their client address or username, by scope.', ['scope']);
  readonly #locks = this.#counter('zot_gate_auth_locks_total', 'Locks started by too many failed authentications, by scope (address|username).', ['scope']);

  constructor(options: MetricsOptions = {}) {
    const countKeys = options.countKeys;
    const keys = new Gauge({
      name: 'zot_gate_api_keys',
      help: 'API keys in the store, by state (active|expired), counted at scrape time.',
      labelNames: ['state'],
      registers: [this.#own],
      collect: async () => {
        const counts = countKeys === undefined ? null : await countKeys();
        keys.reset();
        if (counts === null) return;
        keys.set({ state: 'active' }, counts.active);
        keys.set({ state: 'expired' }, counts.expired);
      },
    });
    // Series that rate() and alerts look for exist from the start, at zero.
    for (const kind of ['network', 'server-error'] satisfies UpstreamErrorKind[]) this.#upstreamErrors.inc({ kind }, 0);
    for (const action of ['update', 'delete'] satisfies Action[]) this.#immutable.inc({ action }, 0);
    for (const scope of ['address', 'username'] satisfies ThrottleScope[]) {
      this.#throttled.inc({ scope }, 0);
      this.#locks.inc({ scope }, 0);
    }
    this.#all = Registry.merge([processMetrics(), this.#own]);
  }

  /** The Prometheus text exposition, and its content type. */
  async render(): Promise<{ readonly contentType: string; readonly body: string }> {
    return { contentType: this.#all.contentType, body: await this.#all.metrics() };
  }

  /** One answered request; `route` is a label from routeLabel(), never a path. */
  request(route: string, method: string, status: number, seconds: number): void {
    const m = methodLabel(method);
    this.#requests.inc({ route, method: m, status: String(status) });
    this.#requestSeconds.observe({ route, method: m }, seconds);
  }

  /** One authorization decision; a denial for `tag-immutable` is also an immutability refusal. */
  decision(action: DecisionAction, allow: boolean, reason: Reason): void {
    this.#decisions.inc({ action, result: allow ? 'allow' : 'deny', reason });
    if (!allow && reason === 'tag-immutable') this.#immutable.inc({ action });
  }

  /** One authentication: `failure` is the AuthFailure that refused it, absent when it succeeded. */
  auth(method: AuthLabel, failure?: CredentialReason): void {
    this.#auth.inc(failure === undefined ? { method, result: 'ok' } : { method, result: 'fail', reason: failure });
  }

  /** A request refused 429 by a lock on its client address or username. */
  throttled(scope: ThrottleScope): void {
    this.#throttled.inc({ scope });
  }

  /** A lock started by too many failed authentications. */
  locked(scope: ThrottleScope): void {
    this.#locks.inc({ scope });
  }

  /** An upstream answer's latency to its headers; a 5xx also counts as a server error. */
  upstream(method: string, seconds: number, status: number): void {
    this.#upstreamSeconds.observe({ method: methodLabel(method) }, seconds);
    if (status >= 500) this.#upstreamErrors.inc({ kind: 'server-error' });
  }

  /** An upstream request that got no usable answer (refused, reset, timed out). */
  upstreamError(): void {
    this.#upstreamErrors.inc({ kind: 'network' });
  }

  /** Request body bytes streamed to the registry. */
  received(bytes: number): void {
    this.#received.inc(bytes);
  }

  /** Response body bytes streamed from the registry to the client. */
  sent(bytes: number): void {
    this.#sent.inc(bytes);
  }

  /** Counts an upload in flight until the returned function is called (once). */
  uploadStarted(): () => void {
    this.#uploads.inc();
    let done = false;
    return () => {
      if (!done) this.#uploads.dec();
      done = true;
    };
  }

  #counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.#own] });
  }
}

/**
 * Active and expired keys as the gate would judge them now: a key past its
 * `expiresAt`, or older than `auth.apikey.maxLifetime`, no longer authenticates.
 */
export function countKeyStates(records: readonly ApiKeyRecord[], now: Date, maxLifetimeMs: number | null): KeyCounts {
  const expired = records.filter((record) => keyExpired(record, maxLifetimeMs, now)).length;
  return { active: records.length - expired, expired };
}
