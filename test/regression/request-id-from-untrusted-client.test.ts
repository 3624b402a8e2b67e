/**
 * Any client picked the request id of its own audit events.
 *
 * The attack: `X-Request-Id: <anything token-like>` on any request. The gate
 * kept a caller's request id (so that its logs join Caddy's), from whoever
 * sent it: a client could give its refused pushes the id of someone else's
 * request, or one id to all of its requests, and so blur or forge the join
 * between the audit trail, the log and the proxy's access log.
 *
 * Now the id is taken only from a trusted proxy (`auth.trustedProxies`: the
 * socket's peer is one of them); from anyone else the gate makes its own
 * (a UUID), in the response header, the log and the audit trail alike.
 *
 * And the registry was sent the client's `X-Request-Id` as it came, whoever
 * sent it: zot logged the id the client chose, not the gate's. Now the gate
 * sends its own request id (the one in its log and audit trail) on every
 * request it forwards, so zot's log lines join up with the gate's.
 *
 * Peers: every test client connects from 127.0.0.1. The untrusted client is
 * shown by narrowing trustedProxies to 10.0.0.0/8 (loopback untrusted); the
 * default (loopback trusted: Caddy beside the gate) keeps the id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRecorder, type Recorder } from '../harness/recorder.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { send, type RawResponse } from '../support/http.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const CHOSEN = 'caddy-7f3a9c21e4b8';

let registry: Registry;
/** between the gates and the registry: what each forwarded request carried */
let recorder: Recorder;
let behindCaddy: GateUnderTest;
let untrusting: GateUnderTest;

const gateTrusting = (trustedProxies?: readonly string[]) =>
  startGate({
    upstream: recorder.url,
    accessControl: { repositories: { '**': { anonymousPolicy: ['read'] } } },
    extra: { auth: { failDelay: 0, ...(trustedProxies === undefined ? {} : { trustedProxies }) } },
  });

beforeAll(async () => {
  registry = await startRegistry();
  recorder = await startRecorder(registry.url);
  behindCaddy = await gateTrusting();
  untrusting = await gateTrusting(['10.0.0.0/8']);
}, 60_000);

afterAll(async () => {
  await untrusting?.stop();
  await behindCaddy?.stop();
  await recorder?.stop();
  await registry?.stop();
});

/** An anonymous DELETE: refused (401), so it is an audit event. */
function refusedDelete(gate: GateUnderTest, requestId: string): Promise<RawResponse> {
  return send(gate.url, { method: 'DELETE', path: '/v2/team/app/manifests/latest', headers: { 'x-request-id': requestId } });
}

/** The request id of the one audit event and of the log lines of the request that answered `response`. */
function idsOf(gate: GateUnderTest, response: RawResponse): { audit: unknown[]; log: unknown[] } {
  const id = response.headers['x-request-id'];
  const audit = gate.logs.filter((line) => line.audit === true && line.requestId === id && line.method === 'DELETE');
  const log = gate.logs.filter((line) => line.msg === 'request' && line.reqId === id);
  return { audit: audit.map((line) => line.requestId), log: log.map((line) => line.reqId) };
}

describe('X-Request-Id', () => {
  it('from a client that is not a trusted proxy: replaced by a fresh UUID in the answer, the log and the audit event', async () => {
    const response = await refusedDelete(untrusting, CHOSEN);
    expect(response.status).toBe(401);
    const id = response.headers['x-request-id'] as string;
    expect(id).not.toBe(CHOSEN);
    expect(id).toMatch(UUID);
    expect(idsOf(untrusting, response)).toEqual({ audit: [id], log: [id] });
    expect(untrusting.logs.some((line) => line.reqId === CHOSEN || line.requestId === CHOSEN)).toBe(false);
  });

  it('two requests of an untrusted client naming one id get two ids', async () => {
    const [a, b] = [await refusedDelete(untrusting, CHOSEN), await refusedDelete(untrusting, CHOSEN)];
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
  });

  it('from a trusted proxy (loopback, the default): kept, in the answer, the log and the audit event', async () => {
    const response = await refusedDelete(behindCaddy, CHOSEN);
    expect(response.status).toBe(401);
    expect(response.headers['x-request-id']).toBe(CHOSEN);
    expect(idsOf(behindCaddy, response)).toEqual({ audit: [CHOSEN], log: [CHOSEN] });
  });

  it.each([
    ['with a space', 'a b'],
    ['longer than 64', 'x'.repeat(65)],
    ['with a quote', 'a"b'],
  ])('from a trusted proxy but not a plain token (%s): replaced by a UUID', async (_name, given) => {
    const response = await refusedDelete(behindCaddy, given);
    expect(response.headers['x-request-id']).toMatch(UUID);
  });
});

describe('X-Request-Id sent to the registry', () => {
  /** The x-request-id of every request the gate forwarded for one anonymous request. */
  async function forwardedIds(gate: GateUnderTest, path: string, requestId: string): Promise<{ answered: unknown; forwarded: unknown[] }> {
    recorder.clear();
    const response = await send(gate.url, { path, headers: { 'x-request-id': requestId } });
    expect(recorder.requests.length, response.body).toBeGreaterThan(0);
    return { answered: response.headers['x-request-id'], forwarded: recorder.requests.map((r) => r.headers['x-request-id']) };
  }

  it.each([
    ['a read (the relay)', '/v2/team/app/tags/list'],
    ['a UI path (http-proxy)', '/'],
  ])('%s from an untrusted client: the gate sends its own id, never the one the client chose', async (_name, path) => {
    const { answered, forwarded } = await forwardedIds(untrusting, path, CHOSEN);
    expect(answered).toMatch(UUID);
    expect(forwarded).toEqual([answered]);
  });

  it('from a trusted proxy: its id, which is the gate\'s own', async () => {
    const { answered, forwarded } = await forwardedIds(behindCaddy, '/v2/team/app/tags/list', CHOSEN);
    expect(answered).toBe(CHOSEN);
    expect(forwarded).toEqual([CHOSEN]);
  });
});
