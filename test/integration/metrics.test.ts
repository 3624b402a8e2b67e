/**
 * Issue 6 item 1: `/-/metrics` against a real gate and the real registry.
 * The exposition passes `promtool check metrics` (its lint included: exit 3,
 * warnings only, is a failure here); it is readable under the `metrics`
 * rules of zot's `/metrics`; and the counters move by exactly what the
 * requests between two scrapes did. Between the gate and the registry sits
 * the fault injector, which forwards everything unless a test arms a fault.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultInjector, type FaultInjector } from '../harness/faulty.js';
import { sha256 } from '../harness/images.js';
import { run } from '../harness/process.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { basic, ociError, send, type RawResponse } from '../support/http.js';
import { samples } from '../support/metrics.js';
import { registryOps } from '../support/registry-ops.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const REPO = 'obs/app';
const DAY = 86_400_000;

const accessControl = {
  repositories: {
    '**': {
      anonymousPolicy: ['read'],
      policies: [{ groups: ['pushers'], actions: ['read', 'create', 'update', 'delete'] }],
    },
  },
  metrics: { users: ['prom'] },
};
const immutableTags = [{ repositories: ['**'], tags: ['v*'] }];

let registry: Registry;
let faults: FaultInjector;
let gate: GateUnderTest;
const auth = { prom: '', pusher: '', stranger: basic('prom', `zak_${'0'.repeat(32)}`) };
let manifests: string[];
let configDigest: string;

async function scrape(): Promise<Map<string, number>> {
  const response = await send(gate.url, { path: '/-/metrics', headers: { authorization: auth.prom } });
  expect(response.status, response.body).toBe(200);
  return samples(response.body);
}

/** What changed between two scrapes, for series whose name starts with one of `prefixes`. */
function delta(before: Map<string, number>, after: Map<string, number>, ...prefixes: string[]): Record<string, number> {
  const changed: Record<string, number> = {};
  for (const [key, value] of after) {
    if (!prefixes.some((prefix) => key.startsWith(prefix))) continue;
    const moved = value - (before.get(key) ?? 0);
    if (moved !== 0) changed[key] = moved;
  }
  return changed;
}

function call(who: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return send(gate.url, { method, path, headers: { ...(who === '' ? {} : { authorization: who }), ...headers }, ...(body === undefined ? {} : { body }) });
}

beforeAll(async () => {
  registry = await startRegistry();
  faults = await startFaultInjector(registry.url);
  gate = await startGate({ upstream: faults.url, accessControl, extra: { immutableTags } });
  for (const [who, groups] of [['prom', []], ['pusher', ['pushers']]] as const) {
    const { key } = await gate.store.create({ owner: who, label: 'metrics', expiresAt: null, scopes: [], groups: [...groups] });
    auth[who] = basic(who, key);
  }
  await gate.store.create({ owner: 'pusher', label: 'old', expiresAt: new Date(Date.now() - DAY), scopes: [] });
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
  configDigest = await registryOps(registry.url).putBlob(REPO, config);
  manifests = [1, 2].map((n) =>
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [],
      annotations: { variant: String(n) },
    }),
  );
}, 60_000);

afterAll(async () => {
  await gate?.stop();
  await faults?.stop();
  await registry?.stop();
});

describe('/-/metrics is readable under accessControl.metrics, as zot /metrics is', () => {
  const rows: Array<{ who: keyof typeof auth | 'anonymous'; status: number; code?: string; message?: string; reason?: string }> = [
    { who: 'prom', status: 200 },
    { who: 'anonymous', status: 401, code: 'UNAUTHORIZED', message: 'authentication required to read metrics', reason: 'metrics-not-granted' },
    { who: 'pusher', status: 403, code: 'DENIED', message: 'user "pusher" may not read metrics', reason: 'metrics-not-granted' },
    { who: 'stranger', status: 401, code: 'UNAUTHORIZED', message: 'invalid credentials', reason: 'invalid-credentials' },
  ];
  it.each(rows)('$who → $status', async ({ who, status, code, message, reason }) => {
    const response = await call(who === 'anonymous' ? '' : auth[who], 'GET', '/-/metrics');
    expect(response.status, response.body).toBe(status);
    if (status === 200) {
      expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      return;
    }
    expect(ociError(response)).toEqual({ code, message, detail: { reason } });
    const challenge = status === 401 ? `Bearer realm="http://${gate.host}/zot/auth/token",service="${gate.host}"` : undefined;
    expect(response.headers['www-authenticate']).toBe(challenge);
  });
});

describe('the counters move by exactly what was done', () => {
  it('an allowed and a denied request, and a refused key', async () => {
    const before = await scrape();
    expect((await call('', 'HEAD', `/v2/${REPO}/blobs/${configDigest}`)).status).toBe(200);
    expect((await call('', 'DELETE', `/v2/${REPO}/manifests/v9`)).status).toBe(401);
    expect((await call(auth.stranger, 'GET', `/v2/${REPO}/tags/list`)).status).toBe(401);
    const after = await scrape();
    expect(delta(before, after, 'zot_gate_decisions_total', 'zot_gate_auth_total')).toEqual({
      // the first scrape, counted once it was answered
      'zot_gate_auth_total{method="apikey",result="ok"}': 1,
      'zot_gate_decisions_total{action="read",reason="metrics-user",result="allow"}': 1,
      'zot_gate_auth_total{method="anonymous",result="ok"}': 2,
      'zot_gate_decisions_total{action="read",reason="anonymous-policy",result="allow"}': 1,
      'zot_gate_decisions_total{action="delete",reason="action-not-granted",result="deny"}': 1,
      'zot_gate_auth_total{method="apikey",reason="unknown-key",result="fail"}': 1,
    });
    expect(delta(before, after, 'zot_gate_requests_total')).toEqual({
      'zot_gate_requests_total{method="GET",route="gate-metrics",status="200"}': 1,
      'zot_gate_requests_total{method="HEAD",route="blob",status="200"}': 1,
      'zot_gate_requests_total{method="DELETE",route="manifest",status="401"}': 1,
      'zot_gate_requests_total{method="GET",route="tags",status="401"}': 1,
    });
  });

  it('an overwrite of an immutable tag counts as an immutability refusal', async () => {
    const put = (n: number) => call(auth.pusher, 'PUT', `/v2/${REPO}/manifests/v1`, manifests[n]!, { 'content-type': OCI_MANIFEST });
    expect((await put(0)).status).toBe(201);
    const before = await scrape();
    const refused = await put(1);
    expect(refused.status, refused.body).toBe(403);
    const after = await scrape();
    expect(delta(before, after, 'zot_gate_decisions_total', 'zot_gate_immutability_refusals_total')).toEqual({
      'zot_gate_decisions_total{action="read",reason="metrics-user",result="allow"}': 1,
      'zot_gate_decisions_total{action="update",reason="tag-immutable",result="deny"}': 1,
      'zot_gate_immutability_refusals_total{action="update"}': 1,
    });
  });

  it('blob bytes in and out are the bodies streamed, exactly; the upload is in flight only while it runs', async () => {
    const blob = 'x'.repeat(300_000);
    const before = await scrape();
    const started = await call(auth.pusher, 'POST', `/v2/${REPO}/blobs/uploads/`);
    expect(started.status).toBe(202);
    const location = new URL(started.headers.location!, gate.url);
    location.searchParams.set('digest', sha256(blob));
    const put = await call(auth.pusher, 'PUT', `${location.pathname}${location.search}`, blob, { 'content-type': 'application/octet-stream' });
    expect(put.status, put.body).toBe(201);
    const got = await call('', 'GET', `/v2/${REPO}/blobs/${sha256(blob)}`);
    expect(got.body).toBe(blob);
    expect((await call('', 'HEAD', `/v2/${REPO}/blobs/${sha256(blob)}`)).status).toBe(200);
    const after = await scrape();
    expect(delta(before, after, 'zot_gate_bytes_', 'zot_gate_uploads_in_flight')).toEqual({
      zot_gate_bytes_received_total: 300_000,
      zot_gate_bytes_sent_total: 300_000,
    });
    expect(after.get('zot_gate_uploads_in_flight')).toBe(0);
    expect(delta(before, after, 'zot_gate_upstream_request_duration_seconds_count')).toEqual({
      'zot_gate_upstream_request_duration_seconds_count{method="POST"}': 1,
      'zot_gate_upstream_request_duration_seconds_count{method="PUT"}': 1,
      'zot_gate_upstream_request_duration_seconds_count{method="GET"}': 1,
      'zot_gate_upstream_request_duration_seconds_count{method="HEAD"}': 1,
    });
  });

  it('upstream failures: a dropped connection is a network error, a 5xx a server error', async () => {
    const path = `/v2/${REPO}/blobs/${sha256('missing')}`;
    const before = await scrape();
    faults.inject({ method: 'GET', path, answer: 'reset' });
    expect((await call('', 'GET', path)).status).toBe(502);
    faults.heal();
    faults.inject({ method: 'GET', path, answer: 500 });
    expect((await call('', 'GET', path)).status).toBe(500);
    faults.heal();
    const after = await scrape();
    expect(delta(before, after, 'zot_gate_upstream_errors_total')).toEqual({
      'zot_gate_upstream_errors_total{kind="network"}': 1,
      'zot_gate_upstream_errors_total{kind="server-error"}': 1,
    });
  });

  it('API keys are counted by state at scrape time', async () => {
    const now = await scrape();
    expect([now.get('zot_gate_api_keys{state="active"}'), now.get('zot_gate_api_keys{state="expired"}')]).toEqual([2, 1]);
  });
});

describe('promtool check metrics', () => {
  it('passes, lint included, on the whole exposition', async () => {
    const response = await call(auth.prom, 'GET', '/-/metrics');
    const result = await run('promtool', ['check', 'metrics'], { input: response.body, timeoutMs: 20_000 });
    expect({ code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it("holds every one of the gate's own families, and the process's under the same prefix", async () => {
    const response = await call(auth.prom, 'GET', '/-/metrics');
    const families = [...response.body.matchAll(/^# TYPE (zot_gate_\S+) (\w+)$/gm)].map(([, name, type]) => `${name} ${type}`);
    expect(families.filter((family) => !/^zot_gate_(process|nodejs)_/.test(family))).toEqual([
      'zot_gate_requests_total counter',
      'zot_gate_request_duration_seconds histogram',
      'zot_gate_decisions_total counter',
      'zot_gate_auth_total counter',
      'zot_gate_upstream_request_duration_seconds histogram',
      'zot_gate_upstream_errors_total counter',
      'zot_gate_bytes_received_total counter',
      'zot_gate_bytes_sent_total counter',
      'zot_gate_uploads_in_flight gauge',
      'zot_gate_immutability_refusals_total counter',
      'zot_gate_auth_throttled_total counter',
      'zot_gate_auth_locks_total counter',
      'zot_gate_api_keys gauge',
    ]);
    expect(families).toContain('zot_gate_process_cpu_seconds_total counter');
    expect(families).toContain('zot_gate_nodejs_active_handles gauge');
    expect(families.filter((family) => /_total gauge$/.test(family))).toEqual([]);
  });
});
