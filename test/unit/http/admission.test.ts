/**
 * The registry hook's table (http/admission.ts `ADMIT`): one row per kind of
 * requirement, and per branch of the `repository` row, with what the hook
 * does there: answer itself (exact status, OCI code, message, challenge) or
 * forward, with what the forward handler's guard needs (`request.gate`). The
 * hook runs on a real Fastify instance with the real key store, gate tokens
 * and sessions, in front of the real registry (for the catalog and mgmt);
 * a catch-all route stands where the proxy would be and reports what it was
 * handed, so nothing here depends on forwarding.
 */
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ADMIT, registryAdmission } from '../../../src/http/admission.js';
import { AuthThrottling } from '../../../src/http/auth-throttling.js';
import { ApiKeyStore, keyStorePath } from '../../../src/identity/apikey-store.js';
import { GateTokens } from '../../../src/identity/gate-tokens.js';
import { GateMetrics } from '../../../src/observability/metrics.js';
import { UploadSessions } from '../../../src/proxy/upload-sessions.js';
import { createUpstream } from '../../../src/proxy/upstream.js';
import { parseRequest } from '../../../src/registry/parse.js';
import { requirementOf } from '../../../src/registry/requirements.js';
import type { Requirement } from '../../../src/registry/types.js';
import { REVOKED_SESSIONS_FILE, RevokedSessions } from '../../../src/sso/revoked-sessions.js';
import { loadSessionKey } from '../../../src/sso/session-key.js';
import { Sessions } from '../../../src/sso/sessions.js';
import { startRegistry, type Registry } from '../../harness/registry.js';
import { makeTempDir, removeDir } from '../../harness/tmp.js';
import { basic } from '../../support/http.js';

const accessControl = {
  repositories: {
    'team/**': { policies: [{ users: ['alice'], actions: ['read', 'create', 'delete'] }] },
    'pub/**': { anonymousPolicy: ['read'] },
  },
  adminPolicy: { users: ['root'], actions: ['read', 'create', 'update', 'delete'] },
  metrics: { users: ['alice'] },
};

const UPLOAD = '3f1d2c4e-5b6a-4789-8abc-def012345678';
const OWNED = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const DIGEST = `sha256:${'ab'.repeat(32)}`;

type Who = 'anonymous' | 'alice' | 'bob' | 'root';

let dir: string;
let registry: Registry;
let app: FastifyInstance;
let store: ApiKeyStore;
const keys: Partial<Record<Who, string>> = {};

beforeAll(async () => {
  dir = await makeTempDir('admission');
  registry = await startRegistry();
  const config = parseConfig({ upstream: { url: registry.url }, dataDir: dir, auth: { failDelay: 0 }, accessControl }, join(dir, 'zot-gate.json'));
  store = await ApiKeyStore.open(keyStorePath(config));
  for (const user of ['alice', 'bob', 'root'] as const) keys[user] = (await store.create({ owner: user, label: 'test', expiresAt: null, scopes: [], groups: [] })).key;
  const now = () => new Date();
  const uploads = new UploadSessions();
  uploads.bind('team/app', OWNED, 'alice');
  const sessions = new Sessions({
    key: await loadSessionKey(dir),
    maxAgeMs: () => 3_600_000,
    secure: () => false,
    now,
    groupsOf: (user) => store.groupsOf(user),
    revoked: await RevokedSessions.open(join(dir, REVOKED_SESSIONS_FILE)),
  });
  const auth = { apiKeys: store, gateTokens: await GateTokens.open(dir), sessions, now, throttle: new AuthThrottling(new GateMetrics(), now) };
  app = Fastify();
  app.addHook('onRequest', registryAdmission({ config: () => config, upstream: createUpstream(config.upstream.origin, config.upstream.timeoutMs), uploads, auth }));
  // Where the proxy would be: what the hook handed on.
  app.all('*', async (request) => {
    const gate = request.gate;
    return { forwarded: { route: gate?.route.kind, user: gate?.principal.name, manifestWrite: gate?.manifestWrite?.tags, manifestDelete: gate?.manifestDelete?.reference } };
  });
  await app.ready();
}, 60_000);

afterAll(async () => {
  await app?.close();
  await store?.flush();
  await registry?.stop();
  await removeDir(dir);
});

interface Answered {
  readonly status: number;
  readonly code?: string;
  readonly message?: string;
  readonly reason?: string;
  /** WWW-Authenticate, exactly; undefined: none */
  readonly challenge?: string;
}
interface Forwarded {
  readonly forwarded: { readonly route: string; readonly user: string | null; readonly manifestWrite?: readonly string[]; readonly manifestDelete?: unknown };
}

const realm = (scope?: string) => `Bearer realm="http://gate.test/zot/auth/token",service="gate.test"${scope === undefined ? '' : `,scope="${scope}"`}`;
const pull = (name: string) => realm(`repository:${name}:pull`);
const push = (name: string) => realm(`repository:${name}:pull,push`);

const ROWS: Array<[string, Requirement['kind'], Who, string, string, Answered | Forwarded]> = [
  ['an unknown method: 405, whoever asks', 'refused', 'alice', 'OPTIONS', '/v2/', { status: 405, code: 'UNSUPPORTED', reason: 'method-not-allowed', message: 'OPTIONS is not allowed on the API version check (/v2/)' }],
  ["zot's mgmt extension: answered by the gate, anonymously", 'none', 'anonymous', 'GET', '/v2/_zot/ext/mgmt', { status: 200 }],
  ["zot's UI assets: forwarded, anonymously", 'none', 'anonymous', 'GET', '/home', { forwarded: { route: 'ui', user: null } }],
  ['/v2/ anonymous: a challenge without scope', 'base', 'anonymous', 'GET', '/v2/', { status: 401, code: 'UNAUTHORIZED', reason: 'authentication-required', message: 'authentication required', challenge: realm() }],
  ['/v2/ named: answered 200 by the gate', 'base', 'bob', 'GET', '/v2/', { status: 200 }],
  ['the catalog: answered by the gate', 'catalog', 'anonymous', 'GET', '/v2/_catalog', { status: 200 }],
  ['a manifest PUT by tag: forwarded to the write guard with its tag', 'tag-write', 'alice', 'PUT', '/v2/team/app/manifests/v1?tag=v2', { forwarded: { route: 'manifest', user: 'alice', manifestWrite: ['v1', 'v2'] } }],
  ['a manifest PUT, anonymous: 401 before the guard', 'tag-write', 'anonymous', 'PUT', '/v2/team/app/manifests/v1', { status: 401, code: 'UNAUTHORIZED', reason: 'action-not-granted', message: 'authentication required to push to repository "team/app" (neither create nor update is granted)', challenge: push('team/app') }],
  ['a manifest PUT, neither create nor update: 403', 'tag-write', 'bob', 'PUT', '/v2/team/app/manifests/v1', { status: 403, code: 'DENIED', reason: 'action-not-granted', message: 'user "bob" may not push to repository "team/app" (neither create nor update is granted)' }],
  ['a manifest PUT by digest: the write guard, no tags', 'repository', 'alice', 'PUT', `/v2/team/app/manifests/${DIGEST}`, { forwarded: { route: 'manifest', user: 'alice', manifestWrite: [] } }],
  ['a manifest PUT by digest, neither create nor update: 403', 'repository', 'bob', 'PUT', `/v2/team/app/manifests/${DIGEST}`, { status: 403, code: 'DENIED', reason: 'action-not-granted', message: 'user "bob" may not push to repository "team/app" (neither create nor update is granted)' }],
  ['a manifest DELETE: forwarded to the delete guard', 'repository', 'alice', 'DELETE', '/v2/team/app/manifests/v1', { forwarded: { route: 'manifest', user: 'alice', manifestDelete: { kind: 'tag', tag: 'v1' } } }],
  ['a manifest DELETE without delete: 403', 'repository', 'bob', 'DELETE', '/v2/team/app/manifests/v1', { status: 403, code: 'DENIED', reason: 'action-not-granted', message: 'user "bob" may not delete in repository "team/app"' }],
  ['a read: forwarded as it is', 'repository', 'alice', 'GET', '/v2/team/app/tags/list', { forwarded: { route: 'tags', user: 'alice' } }],
  ['a read, anonymous: a pull challenge', 'repository', 'anonymous', 'GET', '/v2/team/app/tags/list', { status: 401, code: 'UNAUTHORIZED', reason: 'action-not-granted', message: 'authentication required to read in repository "team/app"', challenge: pull('team/app') }],
  ["a read anonymous may make: forwarded", 'repository', 'anonymous', 'GET', '/v2/pub/x/tags/list', { forwarded: { route: 'tags', user: null } }],
  ['one\'s own upload session: forwarded', 'repository', 'alice', 'GET', `/v2/team/app/blobs/uploads/${OWNED}`, { forwarded: { route: 'upload', user: 'alice' } }],
  ["another's or no upload session: 404", 'repository', 'alice', 'GET', `/v2/team/app/blobs/uploads/${UPLOAD}`, { status: 404, code: 'BLOB_UPLOAD_UNKNOWN', reason: 'upload-not-owned', message: `upload ${UPLOAD} is not known in repository "team/app"` }],
  ['an upload session, anonymous though reads are open: a push challenge', 'repository', 'anonymous', 'GET', `/v2/pub/x/blobs/uploads/${UPLOAD}`, { status: 401, code: 'UNAUTHORIZED', reason: 'authentication-required', message: `authentication required to use upload ${UPLOAD} in repository "pub/x"`, challenge: push('pub/x') }],
  ["zot's metrics: forwarded to whoever accessControl.metrics names", 'metrics', 'alice', 'GET', '/metrics', { forwarded: { route: 'metrics', user: 'alice' } }],
  ["zot's metrics, anonymous: 401", 'metrics', 'anonymous', 'GET', '/metrics', { status: 401, code: 'UNAUTHORIZED', reason: 'metrics-not-granted', message: 'authentication required to read metrics', challenge: realm() }],
  ['search: read on every repository', 'read-all', 'alice', 'GET', '/v2/_zot/ext/search', { status: 403, code: 'DENIED', reason: 'read-all-required', message: 'user "alice" may not use search, which needs read on every repository' }],
  ['another extension: admins', 'admin', 'alice', 'GET', '/v2/_zot/ext/userprefs', { status: 403, code: 'DENIED', reason: 'admin-required', message: 'user "alice" may not read (admins only)' }],
  ['another extension, an admin: forwarded', 'admin', 'root', 'GET', '/v2/_zot/ext/userprefs', { forwarded: { route: 'extension', user: 'root' } }],
];

describe('ADMIT: what the hook does for each kind of requirement', () => {
  it.each(ROWS)('%s (%s)', async (_name, kind, who, method, path, expected) => {
    const parsed = parseRequest(method, path);
    expect(parsed.ok && requirementOf(method, parsed.request).kind).toBe(kind);
    const key = keys[who];
    const response = await app.inject({ method: method as 'GET', url: path, headers: { host: 'gate.test', ...(key === undefined ? {} : { authorization: basic(who, key) }) } });
    if ('forwarded' in expected) {
      expect({ status: response.statusCode, body: response.json() }).toEqual({ status: 200, body: { forwarded: expected.forwarded } });
      return;
    }
    expect(response.statusCode).toBe(expected.status);
    expect(response.headers['www-authenticate']).toBe(expected.challenge);
    if (expected.code !== undefined) {
      const error = response.json<{ errors: Array<{ code: string; message: string; detail: { reason: string } }> }>().errors[0]!;
      expect({ code: error.code, message: error.message, reason: error.detail.reason }).toEqual({ code: expected.code, message: expected.message, reason: expected.reason });
    }
  });

  it('every kind of requirement has a row in ADMIT and in this table', () => {
    expect(new Set(ROWS.map(([, kind]) => kind))).toEqual(new Set(Object.keys(ADMIT)));
  });

  it('the answers the gate makes itself: /v2/, the catalog, mgmt', async () => {
    const headers = { host: 'gate.test', authorization: basic('bob', keys.bob!) };
    const base = await app.inject({ method: 'GET', url: '/v2/', headers });
    expect({ body: base.body, api: base.headers['docker-distribution-api-version'] }).toEqual({ body: '{}', api: 'registry/2.0' });
    const catalog = await app.inject({ method: 'GET', url: '/v2/_catalog', headers });
    expect(catalog.json()).toEqual({ repositories: [] });
    const mgmt = await app.inject({ method: 'GET', url: '/v2/_zot/ext/mgmt', headers: { host: 'gate.test' } });
    expect(mgmt.json<{ http: { auth: unknown } }>().http.auth).toEqual({ apikey: true });
  });
});
