/**
 * The process's own metrics (CPU, memory, event loop, GC) from prom-client's
 * default collectors, prefixed `zot_gate_`. They describe the process, not a
 * server, so they are collected once per process, however many gates a test
 * builds; each gate's registry merges them in.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

const METRIC_PREFIX = 'zot_gate_';

/**
 * Gauges prom-client names `…_total`, which promtool's lint refuses ("non-counter
 * metrics should not have _total suffix"; prom-client's default metrics trip it). Each one is
 * the sum of a labelled gauge that stays (`nodejs_active_handles{type}` …).
 */
export const LINT_FAILURES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'].map(
  (name) => `${METRIC_PREFIX}${name}`,
);

let shared: Registry | undefined;

/** The process-wide registry of default metrics, created on first use. */
export function processMetrics(): Registry {
  if (shared !== undefined) return shared;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  for (const name of LINT_FAILURES) registry.removeSingleMetric(name);
  shared = registry;
  return registry;
}
