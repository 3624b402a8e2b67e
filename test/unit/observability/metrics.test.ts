/**
 * The metrics' words: bounded labels, key states, and what each recording
 * call adds to the exposition.
 */
import { describe, expect, it } from 'vitest';
import type { ApiKeyRecord } from '../../../src/identity/types.js';
import { countKeyStates, GateMetrics, methodLabel } from '../../../src/observability/metrics.js';
import { LINT_FAILURES, processMetrics } from '../../../src/observability/process-metrics.js';

const DAY = 86_400_000;
const NOW = new Date('2026-06-01T00:00:00Z');
const ago = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();

function key(createdDaysAgo: number, expiresInDays: number | null): ApiKeyRecord {
  return {
    id: `${createdDaysAgo}/${expiresInDays}`,
    hash: '0'.repeat(64),
    owner: 'ci',
    label: '',
    createdAt: ago(createdDaysAgo),
    expiresAt: expiresInDays === null ? null : ago(-expiresInDays),
    lastUsedAt: null,
    scopes: [],
  };
}

/** The sample lines of `name` in an exposition, as printed. */
async function lines(metrics: GateMetrics, name: string): Promise<string[]> {
  const { body } = await metrics.render();
  return body.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe('methodLabel', () => {
  it.each([
    ['GET', 'GET'],
    ['HEAD', 'HEAD'],
    ['POST', 'POST'],
    ['PUT', 'PUT'],
    ['PATCH', 'PATCH'],
    ['DELETE', 'DELETE'],
    ['OPTIONS', 'OPTIONS'],
    ['get', 'other'],
    ['PROPFIND', 'other'],
    ['TRACE', 'other'],
  ])('%s → %s', (method, label) => {
    expect(methodLabel(method)).toBe(label);
  });
});

describe('countKeyStates', () => {
  it.each([
    { name: 'no keys', keys: [], max: null, counts: { active: 0, expired: 0 } },
    { name: 'no expiry, no limit', keys: [key(400, null)], max: null, counts: { active: 1, expired: 0 } },
    { name: 'past its expiresAt', keys: [key(10, -1)], max: null, counts: { active: 0, expired: 1 } },
    { name: 'expiring exactly now counts as expired', keys: [key(10, 0)], max: null, counts: { active: 0, expired: 1 } },
    { name: 'older than maxLifetime, whatever it says', keys: [key(91, null), key(91, 30)], max: 90 * DAY, counts: { active: 0, expired: 2 } },
    { name: 'within maxLifetime', keys: [key(89, null), key(1, 5)], max: 90 * DAY, counts: { active: 2, expired: 0 } },
    { name: 'a mix', keys: [key(1, null), key(2, -1), key(100, null), key(3, 3)], max: 90 * DAY, counts: { active: 2, expired: 2 } },
  ])('$name', ({ keys, max, counts }) => {
    expect(countKeyStates(keys, NOW, max)).toEqual(counts);
  });
});

describe('GateMetrics', () => {
  it('a denied tag-immutable decision also counts as an immutability refusal; other denials do not', async () => {
    const metrics = new GateMetrics();
    metrics.decision('update', false, 'tag-immutable');
    metrics.decision('delete', false, 'tag-immutable');
    metrics.decision('delete', false, 'action-not-granted');
    metrics.decision('read', true, 'anonymous-policy');
    expect(await lines(metrics, 'zot_gate_immutability_refusals_total')).toEqual([
      'zot_gate_immutability_refusals_total{action="update"} 1',
      'zot_gate_immutability_refusals_total{action="delete"} 1',
    ]);
    expect(await lines(metrics, 'zot_gate_decisions_total')).toEqual([
      'zot_gate_decisions_total{action="update",result="deny",reason="tag-immutable"} 1',
      'zot_gate_decisions_total{action="delete",result="deny",reason="tag-immutable"} 1',
      'zot_gate_decisions_total{action="delete",result="deny",reason="action-not-granted"} 1',
      'zot_gate_decisions_total{action="read",result="allow",reason="anonymous-policy"} 1',
    ]);
  });

  it('authentications: ok without a reason, failures with theirs', async () => {
    const metrics = new GateMetrics();
    metrics.auth('apikey');
    metrics.auth('apikey');
    metrics.auth('anonymous');
    metrics.auth('token', 'expired-token');
    expect(await lines(metrics, 'zot_gate_auth_total')).toEqual([
      'zot_gate_auth_total{method="apikey",result="ok"} 2',
      'zot_gate_auth_total{method="anonymous",result="ok"} 1',
      'zot_gate_auth_total{method="token",result="fail",reason="expired-token"} 1',
    ]);
  });

  it('an upload stays in flight until its done function is called, once however often it is called', async () => {
    const metrics = new GateMetrics();
    const first = metrics.uploadStarted();
    const second = metrics.uploadStarted();
    expect(await lines(metrics, 'zot_gate_uploads_in_flight')).toEqual(['zot_gate_uploads_in_flight 2']);
    first();
    first();
    expect(await lines(metrics, 'zot_gate_uploads_in_flight')).toEqual(['zot_gate_uploads_in_flight 1']);
    second();
    expect(await lines(metrics, 'zot_gate_uploads_in_flight')).toEqual(['zot_gate_uploads_in_flight 0']);
  });

  it('requests: an unknown method is counted as other; upstream 5xx answers are server errors', async () => {
    const metrics = new GateMetrics();
    metrics.request('blob', 'GET', 200, 0.003);
    metrics.request('unmatched', 'PROPFIND', 405, 0.001);
    metrics.upstream('GET', 0.002, 503);
    metrics.upstream('GET', 0.002, 200);
    metrics.upstreamError();
    expect(await lines(metrics, 'zot_gate_requests_total')).toEqual([
      'zot_gate_requests_total{route="blob",method="GET",status="200"} 1',
      'zot_gate_requests_total{route="unmatched",method="other",status="405"} 1',
    ]);
    expect(await lines(metrics, 'zot_gate_upstream_errors_total')).toEqual([
      'zot_gate_upstream_errors_total{kind="network"} 1',
      'zot_gate_upstream_errors_total{kind="server-error"} 1',
    ]);
    expect(await lines(metrics, 'zot_gate_upstream_request_duration_seconds_count')).toEqual([
      'zot_gate_upstream_request_duration_seconds_count{method="GET"} 2',
    ]);
  });

  it('API keys are counted at scrape time; none when they cannot be counted', async () => {
    let counts: { active: number; expired: number } | null = { active: 3, expired: 1 };
    const metrics = new GateMetrics({ countKeys: async () => counts });
    expect(await lines(metrics, 'zot_gate_api_keys')).toEqual(['zot_gate_api_keys{state="active"} 3', 'zot_gate_api_keys{state="expired"} 1']);
    counts = null;
    expect(await lines(metrics, 'zot_gate_api_keys')).toEqual([]);
  });

  it('two gates in one process keep their own counts and share the process metrics', async () => {
    const [a, b] = [new GateMetrics(), new GateMetrics()];
    a.received(10);
    b.received(5);
    expect([await lines(a, 'zot_gate_bytes_received_total'), await lines(b, 'zot_gate_bytes_received_total')]).toEqual([
      ['zot_gate_bytes_received_total 10'],
      ['zot_gate_bytes_received_total 5'],
    ]);
    expect(await lines(a, 'zot_gate_process_start_time_seconds')).toHaveLength(1);
  });
});

describe('process metrics', () => {
  it("leave out the `_total` gauges promtool's lint refuses (prom-client's defaults have three)", async () => {
    const names = processMetrics().getMetricsAsArray().map((metric) => metric.name);
    expect(LINT_FAILURES).toEqual(['zot_gate_nodejs_active_handles_total', 'zot_gate_nodejs_active_requests_total', 'zot_gate_nodejs_active_resources_total']);
    expect(names.filter((name) => LINT_FAILURES.includes(name))).toEqual([]);
    expect(names).toContain('zot_gate_nodejs_active_handles');
  });
});
