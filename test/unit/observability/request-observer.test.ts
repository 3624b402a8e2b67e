/**
 * The observer's hooks on a real Fastify instance over a real socket: an
 * audited answer leaves only once its line is in the file; an async hook
 * that answers and returns the reply ends the request there, as Fastify
 * requires; route labels never hold a raw path.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendOciError } from '../../../src/http/oci-error.js';
import { AuditLog } from '../../../src/observability/audit.js';
import { GateMetrics } from '../../../src/observability/metrics.js';
import { noteAudit, noteIdentity } from '../../../src/observability/observation.js';
import { observeRequests } from '../../../src/observability/request-observer.js';
import { makeTempDir, removeDir } from '../../harness/tmp.js';

let dir: string;
let file: string;
let app: FastifyInstance;
let base: string;
let handlerRuns = 0;
const metrics = new GateMetrics();

beforeAll(async () => {
  dir = await makeTempDir('observer');
  file = join(dir, 'audit.log');
  app = Fastify();
  observeRequests(app, { metrics, audit: await AuditLog.open(file), now: () => new Date('2026-06-01T00:00:00Z') });
  app.post('/zot/auth/logout', async (request, reply) => {
    noteAudit(request, { event: 'logout', identity: 'alice', authMethod: 'session', decision: 'allow', reason: 'logout' });
    return reply.code(200).send('bye');
  });
  await app.register(async (scoped) => {
    scoped.addHook('onRequest', async (request, reply) => {
      noteIdentity(request, { kind: 'user', name: 'bob', groups: [], method: 'apikey' });
      return sendOciError(request, reply, { status: 403, code: 'DENIED', message: 'no', reason: 'action-not-granted' });
    });
    scoped.get('/guarded', async () => {
      handlerRuns += 1;
      return 'the handler ran';
    });
  });
  app.get('/-/healthz', async () => ({ status: 'ok' }));
  app.get('/custom/:id', async () => 'x');
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await app.close();
  await removeDir(dir);
});

/** Sends a request; on the response's first byte, reads the audit file as it is at that moment. */
function sendAndPeek(method: string, path: string): Promise<{ status: number; body: string; fileAtResponse: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, agent: false }, (res) => {
      const fileAtResponse = fileNow();
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), fileAtResponse }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The audit file's text now; empty before its first line. */
function fileNow(): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

const linesOf = (text: string) => text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);

describe('observeRequests', () => {
  it('an audited answer reaches the client only once its line is in the file', async () => {
    const before = linesOf(fileNow()).length;
    const { status, body, fileAtResponse } = await sendAndPeek('POST', '/zot/auth/logout');
    expect([status, body]).toEqual([200, 'bye']);
    expect(linesOf(fileAtResponse).slice(before)).toEqual([expect.objectContaining({ event: 'logout', identity: 'alice', status: 200, client: '127.0.0.1' })]);
  });

  it('an async hook that answers and returns the reply ends the request there, audited once', async () => {
    const before = linesOf(fileNow()).length;
    const { status, fileAtResponse } = await sendAndPeek('GET', '/guarded');
    expect([status, handlerRuns]).toEqual([403, 0]);
    expect(linesOf(fileAtResponse).slice(before)).toEqual([
      expect.objectContaining({ event: 'refusal', identity: 'bob', authMethod: 'apikey', decision: 'deny', reason: 'action-not-granted', status: 403 }),
    ]);
  });

  it('route labels: endpoint names, `other` for a pattern not named, `unmatched` without a route; never the path', async () => {
    for (const path of ['/-/healthz', '/custom/secret-123', '/no/such/path']) await sendAndPeek('GET', path);
    const { body } = await metrics.render();
    const requests = body.split('\n').filter((line) => line.startsWith('zot_gate_requests_total{') && line.includes('method="GET"'));
    expect(requests).toEqual([
      'zot_gate_requests_total{route="other",method="GET",status="403"} 1',
      'zot_gate_requests_total{route="healthz",method="GET",status="200"} 1',
      'zot_gate_requests_total{route="other",method="GET",status="200"} 1',
      'zot_gate_requests_total{route="unmatched",method="GET",status="404"} 1',
    ]);
    expect(body).not.toContain('secret-123');
  });
});
