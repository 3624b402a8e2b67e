/**
 * Issue 6 item 2: the audit trail against a real gate and the real registry.
 * Each write, delete and refusal is exactly one line, with exactly the
 * documented fields, in the log stream (`audit: true`) and in `audit.file`;
 * reads and the `/v2/` challenge are not events. And the file is durable
 * before the answer: a gate (`node dist/cli.js serve`) killed with SIGKILL
 * the moment a DELETE's response arrives still has the line.
 */
import { request as httpRequest } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_FIELDS } from '../../src/observability/audit.js';
import { sha256 } from '../harness/images.js';
import type { ManagedProcess } from '../harness/process.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { serveWithCliKey } from '../support/cli.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { basic, send, type RawResponse } from '../support/http.js';
import { registryOps } from '../support/registry-ops.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const REPO = 'audit/app';
const CONFIG = '{}';
const CONFIG_DIGEST = sha256(CONFIG);
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const accessControl = {
  repositories: {
    '**': {
      policies: [
        { groups: ['readers'], actions: ['read'] },
        { groups: ['writers'], actions: ['read', 'create'] },
        { groups: ['deleters'], actions: ['read', 'delete'] },
      ],
    },
  },
  adminPolicy: { groups: ['admins'], actions: ['read', 'create', 'update', 'delete'] },
};

type Who = 'reader' | 'writer' | 'deleter';
const GROUPS: Record<Who, string[]> = { reader: ['readers'], writer: ['writers'], deleter: ['deleters'] };

let registry: Registry;
let gate: GateUnderTest;
const auth = {} as Record<Who | 'stranger', string>;

/** A distinct manifest over the config blob; `n` makes it distinct. */
function manifest(n: number): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: CONFIG_DIGEST, size: CONFIG.length },
    layers: [],
    annotations: { n: String(n) },
  });
}

async function putManifestDirect(base: string, reference: string, body: string): Promise<string> {
  const response = await send(base, { method: 'PUT', path: `/v2/${REPO}/manifests/${reference}`, headers: { 'content-type': OCI_MANIFEST }, body });
  expect(response.status, response.body).toBe(201);
  return sha256(body);
}

function call(who: Who | 'stranger' | 'anonymous', method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const authorization = who === 'anonymous' ? {} : { authorization: auth[who] };
  return send(gate.url, { method, path, headers: { ...authorization, ...headers }, ...(body === undefined ? {} : { body }) });
}

async function fileLines(path: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The audit lines (file and log stream) `act` added. */
async function audited(act: () => Promise<RawResponse>): Promise<{ response: RawResponse; file: Array<Record<string, unknown>>; log: Array<Record<string, unknown>> }> {
  const fileBefore = (await fileLines(gate.config.audit.file!)).length;
  const logBefore = gate.logs.length;
  const response = await act();
  const file = (await fileLines(gate.config.audit.file!)).slice(fileBefore);
  const log = gate.logs.slice(logBefore).filter((line) => line.audit === true);
  return { response, file, log };
}

beforeAll(async () => {
  registry = await startRegistry();
  gate = await startGate({ upstream: registry.url, accessControl, extra: { audit: { file: './audit/audit.log' } } });
  for (const who of Object.keys(GROUPS) as Who[]) {
    const { key } = await gate.store.create({ owner: who, label: 'audit', expiresAt: null, scopes: [], groups: GROUPS[who] });
    auth[who] = basic(who, key);
  }
  auth.stranger = basic('reader', `zak_${'0'.repeat(32)}`);
  await registryOps(registry.url).putBlob(REPO, CONFIG);
}, 60_000);

afterAll(async () => {
  await gate?.stop();
  await registry?.stop();
});

describe('the acceptance: exactly one line each, with exactly these fields', () => {
  it('a denied push', async () => {
    const { response, file, log } = await audited(() => call('reader', 'PUT', `/v2/${REPO}/manifests/v1`, manifest(1), { 'content-type': OCI_MANIFEST }));
    expect(response.status).toBe(403);
    expect(file).toHaveLength(1);
    expect(Object.keys(file[0]!)).toEqual([...AUDIT_FIELDS]);
    expect(file[0]).toEqual({
      time: expect.stringMatching(ISO),
      event: 'refusal',
      identity: 'reader',
      authMethod: 'apikey',
      client: '127.0.0.1',
      method: 'PUT',
      repository: REPO,
      reference: 'v1',
      // refused before the body was read: whoever may neither create nor update is turned away at once
      digest: null,
      decision: 'deny',
      reason: 'action-not-granted',
      status: 403,
      requestId: response.headers['x-request-id'],
      detail: null,
    });
    const { time: _time, ...fields } = file[0]!;
    expect(log).toEqual([expect.objectContaining({ level: 'info', msg: 'audit', audit: true, ...fields })]);
  });

  it('an allowed delete', async () => {
    const digest = await putManifestDirect(registry.url, 'gone', manifest(2));
    const { response, file, log } = await audited(() => call('deleter', 'DELETE', `/v2/${REPO}/manifests/${digest}`));
    expect(response.status, response.body).toBe(202);
    expect(file).toEqual([
      {
        time: expect.stringMatching(ISO),
        event: 'delete',
        identity: 'deleter',
        authMethod: 'apikey',
        client: '127.0.0.1',
        method: 'DELETE',
        repository: REPO,
        reference: digest,
        digest,
        decision: 'allow',
        reason: 'group-policy',
        status: 202,
        requestId: response.headers['x-request-id'],
        detail: null,
      },
    ]);
    expect(log).toHaveLength(1);
  });
});

describe('what else is an event, and what is not', () => {
  const blob = 'audited blob';
  const rows: Array<{ name: string; act: () => Promise<RawResponse>; status: number; events: Array<Record<string, unknown>> }> = [
    {
      name: 'an allowed manifest PUT: a write, with the body digest',
      act: () => call('writer', 'PUT', `/v2/${REPO}/manifests/v2`, manifest(3), { 'content-type': OCI_MANIFEST }),
      status: 201,
      events: [{ event: 'write', identity: 'writer', method: 'PUT', repository: REPO, reference: 'v2', digest: sha256(manifest(3)), decision: 'allow', reason: 'group-policy', status: 201 }],
    },
    {
      name: 'a blob upload: only its closing PUT is a write',
      act: async () => {
        const started = await call('writer', 'POST', `/v2/${REPO}/blobs/uploads/`);
        const location = new URL(started.headers.location!, gate.url);
        location.searchParams.set('digest', sha256(blob));
        return call('writer', 'PUT', `${location.pathname}${location.search}`, blob, { 'content-type': 'application/octet-stream' });
      },
      status: 201,
      events: [{ event: 'write', identity: 'writer', method: 'PUT', repository: REPO, reference: null, digest: sha256(blob), decision: 'allow', reason: 'group-policy', status: 201 }],
    },
    {
      name: 'refused credentials: the precise failure, no identity',
      act: () => call('stranger', 'GET', `/v2/${REPO}/tags/list`),
      status: 401,
      events: [{ event: 'refusal', identity: null, authMethod: 'apikey', method: 'GET', repository: REPO, reference: null, decision: 'deny', reason: 'unknown-key', status: 401 }],
    },
    {
      name: 'an anonymous read of a private repository',
      act: () => call('anonymous', 'GET', `/v2/${REPO}/manifests/v2`),
      status: 401,
      events: [{ event: 'refusal', identity: null, authMethod: 'anonymous', method: 'GET', repository: REPO, reference: 'v2', decision: 'deny', reason: 'action-not-granted', status: 401 }],
    },
    { name: 'a read', act: () => call('reader', 'GET', `/v2/${REPO}/manifests/v2`, undefined, { accept: OCI_MANIFEST }), status: 200, events: [] },
    { name: 'the /v2/ challenge to a client without credentials', act: () => call('anonymous', 'GET', '/v2/'), status: 401, events: [] },
  ];
  it.each(rows)('$name', async ({ act, status, events }) => {
    const { response, file, log } = await audited(act);
    expect(response.status, response.body).toBe(status);
    expect(file).toEqual(events.map((event) => expect.objectContaining(event)));
    expect(log).toHaveLength(events.length);
  });

  it('API keys made and revoked through zot API are key-create and key-revoke, with the id and never the key', async () => {
    const created = await audited(() =>
      call('writer', 'POST', '/zot/auth/apikey', JSON.stringify({ label: 'ci', scopes: [REPO], expirationDate: '' }), { 'content-type': 'application/json' }),
    );
    expect(created.response.status, created.response.body).toBe(201);
    const { uuid, apiKey } = created.response.json<{ uuid: string; apiKey: string }>();
    const revoked = await audited(() => call('writer', 'DELETE', `/zot/auth/apikey?id=${uuid}`));
    // the key the writer called with made the new one: its parent
    const writerKeyId = (await gate.store.list('writer')).find((record) => record.label === 'audit')?.id;
    expect(revoked.response.status).toBe(200);
    const common = { identity: 'writer', authMethod: 'apikey', repository: null, reference: null, digest: null, decision: 'allow' };
    expect([...created.file, ...revoked.file]).toEqual([
      expect.objectContaining({ ...common, event: 'key-create', method: 'POST', reason: 'apikey-created', status: 201, detail: { keyId: uuid, label: 'ci', scopes: [REPO], expiresAt: null, parentId: writerKeyId } }),
      expect.objectContaining({ ...common, event: 'key-revoke', method: 'DELETE', reason: 'apikey-revoked', status: 200, detail: { keyId: uuid, descendants: [] } }),
    ]);
    expect(await readFile(gate.config.audit.file!, 'utf8')).not.toContain(apiKey);
  });
});

describe('the audit file survives a SIGKILL right after the request was answered', () => {
  let work: string;
  let serve: ManagedProcess | undefined;

  beforeAll(async () => {
    work = await makeTempDir('audit-kill');
  });

  afterAll(async () => {
    await serve?.stop();
    await removeDir(work);
  });

  it('the DELETE answered just before the kill is in the file', async () => {
    const config = (port: number) => ({ listen: { host: '127.0.0.1', port }, upstream: { url: registry.url }, dataDir: './data', audit: { file: './audit.log' }, auth: { failDelay: 0 }, accessControl });
    const { proc, port, key } = await serveWithCliKey(work, config, { user: 'root', groups: 'admins' });
    serve = proc;
    const digest = await putManifestDirect(registry.url, 'doomed', manifest(4));

    const killed = serve;
    const requestId = await new Promise<string>((resolveId, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, method: 'DELETE', path: `/v2/${REPO}/manifests/${digest}`, headers: { authorization: basic('root', key) } },
        (res) => {
          // the first moment the client knows the answer: nothing may be lost from here on
          process.kill(killed.pid, 'SIGKILL');
          expect(res.statusCode).toBe(202);
          resolveId(String(res.headers['x-request-id']));
          res.resume();
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(await killed.exited).toEqual({ code: null, signal: 'SIGKILL' });
    serve = undefined;

    // The key made with the CLI before serve started is audited too (first line); then the DELETE.
    expect(await fileLines(join(work, 'audit.log'))).toEqual([
      expect.objectContaining({ event: 'key-create', authMethod: 'cli', decision: 'allow', reason: 'apikey-created' }),
      expect.objectContaining({ event: 'delete', identity: 'root', method: 'DELETE', repository: REPO, digest, decision: 'allow', reason: 'admin-policy', status: 202, requestId }),
    ]);
  });
});
