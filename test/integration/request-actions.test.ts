/**
 * Every row of the request → action table, against the real
 * registry: for each row, exactly the identities holding the needed action
 * get through (the upstream sees the request); every other identity is
 * refused by the gate and the upstream never sees it.
 */
import { describe, expect, it } from 'vitest';
import { ociError, send, type RawResponse } from '../support/http.js';
import { useStack } from '../support/stack.js';

const ACTIONS = ['read', 'create', 'update', 'delete'] as const;
type Who = (typeof ACTIONS)[number] | 'anonymous' | 'admin' | 'prom' | 'mounter';

const accessControl = {
  repositories: {
    't/**': { policies: ACTIONS.map((action) => ({ groups: [`g-${action}`], actions: [action] })) },
    'src/**': { policies: [{ groups: ['g-src-read'], actions: ['read'] }] },
    'pub/**': { anonymousPolicy: ['read'] },
  },
  adminPolicy: { groups: ['admins'], actions: ['read', 'create', 'update', 'delete'] },
  metrics: { users: ['prom'] },
};

const UPLOAD = '3f1d2c4e-5b6a-4789-8abc-def012345678';
const stack = useStack({
  hop: 'recorder',
  accessControl,
  users: {
    read: ['g-read'], create: ['g-create'], update: ['g-update'], delete: ['g-delete'],
    admin: ['admins'], prom: [], mounter: ['g-create', 'g-src-read'],
  },
  image: { seed: 'actions', tag: 'exists', pushTo: ['t/app:exists', 'src/lib:1', 'pub/x:1'] },
}, 120_000);

async function attempt(who: Who, method: string, path: string, body?: string, contentType = 'application/vnd.oci.image.manifest.v1+json'): Promise<{ response: RawResponse; forwarded: boolean }> {
  stack.recorder.clear();
  const headers: Record<string, string> = { accept: 'application/vnd.oci.image.manifest.v1+json' };
  const authorization = (stack.auth as Partial<Record<Who, string>>)[who];
  if (authorization !== undefined) headers.authorization = authorization;
  if (body !== undefined) headers['content-type'] = contentType;
  const response = await send(stack.gate.url, { method, path, headers, ...(body !== undefined ? { body } : {}) });
  return { response, forwarded: stack.recorder.requests.some((r) => r.method === method && r.url.split('?')[0] === path.split('?')[0]) };
}

// An invalid manifest body: forwarded PUTs are refused by the registry, so no row changes state for the next.
const BAD_MANIFEST = '{}';

describe('request → action table, each row needs exactly one action', () => {
  const digest = () => stack.image.manifestDigest;
  const layer = () => stack.image.layerDigest;
  const rows: Array<[string, string, () => string, (typeof ACTIONS)[number], string?]> = [
    ['GET manifest by tag', 'GET', () => '/v2/t/app/manifests/exists', 'read'],
    ['HEAD manifest by tag', 'HEAD', () => '/v2/t/app/manifests/exists', 'read'],
    ['GET manifest by digest', 'GET', () => `/v2/t/app/manifests/${digest()}`, 'read'],
    ['GET blob', 'GET', () => `/v2/t/app/blobs/${layer()}`, 'read'],
    ['HEAD blob', 'HEAD', () => `/v2/t/app/blobs/${layer()}`, 'read'],
    ['GET tags/list', 'GET', () => '/v2/t/app/tags/list', 'read'],
    ['GET referrers', 'GET', () => `/v2/t/app/referrers/${digest()}`, 'read'],
    ['POST upload', 'POST', () => '/v2/t/app/blobs/uploads/', 'create'],
    ['POST mount without from (a plain upload)', 'POST', () => `/v2/t/app/blobs/uploads/?mount=${layer()}`, 'create'],
    ['PUT manifest, new tag', 'PUT', () => '/v2/t/app/manifests/fresh', 'create', BAD_MANIFEST],
    ['PUT manifest, existing tag', 'PUT', () => '/v2/t/app/manifests/exists', 'update', BAD_MANIFEST],
    ['PUT manifest by digest', 'PUT', () => `/v2/t/app/manifests/${digest()}`, 'create', BAD_MANIFEST],
    ['PUT manifest by digest ?tag=new', 'PUT', () => `/v2/t/app/manifests/${digest()}?tag=fresh`, 'create', BAD_MANIFEST],
    ['PUT manifest by digest ?tag=existing', 'PUT', () => `/v2/t/app/manifests/${digest()}?tag=exists`, 'update', BAD_MANIFEST],
    ['DELETE manifest by tag', 'DELETE', () => '/v2/t/app/manifests/exists', 'delete'],
    ['DELETE manifest by digest (absent)', 'DELETE', () => '/v2/t/app/manifests/sha256:0000000000000000000000000000000000000000000000000000000000000000', 'delete'],
    ['DELETE blob (absent)', 'DELETE', () => '/v2/t/app/blobs/sha256:0000000000000000000000000000000000000000000000000000000000000000', 'delete'],
  ];

  it.each(rows)('%s needs %s', async (_name, method, path, needed, body) => {
    for (const who of ACTIONS) {
      const { response, forwarded } = await attempt(who, method, path(), body);
      if (who === needed) {
        expect([401, 403], `${who}: ${response.body}`).not.toContain(response.status);
        expect(forwarded, `${who} should reach the upstream`).toBe(true);
      } else {
        expect(response.status, `${who}: ${response.body}`).toBe(403);
        if (method !== 'HEAD') {
          expect(ociError(response).code).toBe('DENIED');
          // A manifest PUT by someone holding neither create nor update is refused before the
          // tag is looked up, so its detail names create.
          const manifestPut = method === 'PUT' && path().includes('/manifests/');
          const named = manifestPut && who !== 'create' && who !== 'update' ? 'create' : needed;
          expect(ociError(response).detail).toMatchObject({ reason: 'action-not-granted', action: named, repository: 't/app' });
        }
        expect(forwarded, `${who} must not reach the upstream`).toBe(false);
      }
    }
    const anonymous = await attempt('anonymous', method, path(), body);
    expect(anonymous.response.status).toBe(401);
    const dockerActions = { read: 'pull', create: 'pull,push', update: 'pull,push', delete: 'delete' }[needed];
    expect(anonymous.response.headers['www-authenticate']).toBe(
      `Bearer realm="${stack.gate.url}/zot/auth/token",service="${stack.gate.host}",scope="repository:t/app:${dockerActions}"`,
    );
    expect(anonymous.forwarded).toBe(false);
  });

  it('a denied overwrite names the tag and the action', async () => {
    const { response } = await attempt('create', 'PUT', '/v2/t/app/manifests/exists', BAD_MANIFEST);
    expect(response.status).toBe(403);
    expect(ociError(response)).toEqual({
      code: 'DENIED',
      message: 'user "create" may not overwrite tag "exists" in repository "t/app" (needs update)',
      detail: { reason: 'action-not-granted', action: 'update', repository: 't/app', tag: 'exists', pattern: 't/**' },
    });
  });

  it('the mount parameter without from is dropped, so a plain upload starts', async () => {
    const { response } = await attempt('create', 'POST', `/v2/t/app/blobs/uploads/?mount=${stack.image.layerDigest}`);
    expect(response.status).toBe(202);
    expect(stack.recorder.requests[0]?.url).toBe('/v2/t/app/blobs/uploads/');
  });
});

describe('upload sessions: the action the row needs, and only the identity that opened the session', () => {
  async function open(who: Who): Promise<string> {
    const { response } = await attempt(who, 'POST', '/v2/t/app/blobs/uploads/');
    expect(response.status).toBe(202);
    return response.headers.location!;
  }

  it.each([
    // opener, actor, method, status, forwarded
    ['create', 'create', 'PATCH', 202, true],
    ['create', 'admin', 'PATCH', 404, false],
    ['create', 'mounter', 'PATCH', 404, false],
    ['create', 'read', 'GET', 404, false],
    ['create', 'create', 'GET', 403, false],
    ['create', 'delete', 'DELETE', 404, false],
    ['create', 'anonymous', 'PATCH', 401, false],
    ['admin', 'admin', 'GET', 204, true],
    ['admin', 'admin', 'DELETE', 204, true],
  ] as const)('opened by %s, %s %s → %d', async (opener, actor, method, status, forwarded) => {
    const session = await open(opener);
    const result = await attempt(actor, method, session, method === 'PATCH' ? 'some bytes' : undefined, 'application/octet-stream');
    expect(result.response.status, result.response.body).toBe(status);
    expect(result.forwarded).toBe(forwarded);
    if (status === 404) {
      expect(ociError(result.response)).toEqual({
        code: 'BLOB_UPLOAD_UNKNOWN',
        message: `upload ${session.split('?')[0]!.split('/').pop()} is not known in repository "t/app"`,
        detail: { reason: 'upload-not-owned' },
      });
    }
  });

  it('a session the gate never handed out is unknown, even to an admin', async () => {
    const result = await attempt('admin', 'PATCH', `/v2/t/app/blobs/uploads/${UPLOAD}`, 'x');
    expect(result.response.status).toBe(404);
    expect(result.forwarded).toBe(false);
  });
});

describe('cross-repository mount: create on the target and read on from', () => {
  it.each([
    ['create', 403, false],
    ['mounter', 201, true],
  ] as const)('%s → %d', async (who, status, forwarded) => {
    const path = `/v2/t/app/blobs/uploads/?mount=${stack.image.layerDigest}&from=src/lib`;
    const result = await attempt(who, 'POST', path);
    expect(result.response.status).toBe(status);
    expect(result.forwarded).toBe(forwarded);
    if (status === 403) expect(ociError(result.response).detail).toMatchObject({ action: 'read', repository: 'src/lib' });
    else expect(stack.recorder.requests[0]?.url).toBe(`/v2/t/app/blobs/uploads/?mount=${encodeURIComponent(stack.image.layerDigest)}&from=src%2Flib`);
  });
});

describe('the rows that are not repository actions', () => {
  it('GET /v2/: anonymous gets a Bearer challenge naming the token endpoint; a key gets 200; zot UI as guest gets 200', async () => {
    const anonymous = await attempt('anonymous', 'GET', '/v2/');
    expect(anonymous.response.status).toBe(401);
    expect(anonymous.response.headers['www-authenticate']).toBe(`Bearer realm="${stack.gate.url}/zot/auth/token",service="${stack.gate.host}"`);
    expect(ociError(anonymous.response)).toEqual({ code: 'UNAUTHORIZED', message: 'authentication required', detail: { reason: 'authentication-required' } });
    const named = await attempt('read', 'GET', '/v2/');
    expect(named.response.status).toBe(200);
    expect(named.response.headers['docker-distribution-api-version']).toBe('registry/2.0');
    const ui = await send(stack.gate.url, { path: '/v2/', headers: { 'x-zot-api-client': 'zot-ui' } });
    expect(ui.status).toBe(200);
  });

  it('a 401 to zot UI carries no challenge (no browser Basic prompt)', async () => {
    const ui = await send(stack.gate.url, { path: '/v2/t/app/tags/list', headers: { 'x-zot-api-client': 'zot-ui' } });
    expect(ui.status).toBe(401);
    expect(ui.headers['www-authenticate']).toBeUndefined();
  });

  it.each([
    ['anonymous', ['pub/x']],
    // zot: named users do not inherit anonymousPolicy, so pub/x is not theirs; create alone does not read.
    ['read', ['t/app']],
    ['mounter', ['src/lib']],
    ['admin', ['pub/x', 'src/lib', 't/app']],
  ] as const)('GET /v2/_catalog as %s lists only readable repositories', async (who, expected) => {
    const { response } = await attempt(who, 'GET', '/v2/_catalog');
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ repositories: expected });
  });

  it('GET /v2/_catalog is paginated again after filtering (n, last, Link)', async () => {
    const first = await attempt('admin', 'GET', '/v2/_catalog?n=2');
    expect(first.response.json()).toEqual({ repositories: ['pub/x', 'src/lib'] });
    expect(first.response.headers.link).toBe('</v2/_catalog?n=2&last=src%2Flib>; rel="next"');
    const second = await attempt('admin', 'GET', '/v2/_catalog?n=2&last=src%2Flib');
    expect(second.response.json()).toEqual({ repositories: ['t/app'] });
    expect(second.response.headers.link).toBeUndefined();
  });

  it.each([
    ['GET /v2/_zot/ext/mgmt is open to anyone', 'anonymous', 'GET', '/v2/_zot/ext/mgmt', true],
    ['search needs read on every repository: a partial reader is refused', 'read', 'GET', '/v2/_zot/ext/search?query=x', false],
    ['search: an admin may', 'admin', 'GET', '/v2/_zot/ext/search?query=x', true],
    ['cosign key upload: not a plain user', 'create', 'POST', '/v2/_zot/ext/cosign', false],
    ['cosign key upload: an admin may', 'admin', 'POST', '/v2/_zot/ext/cosign', true],
    ['notation: not a plain user', 'delete', 'POST', '/v2/_zot/ext/notation', false],
    ['/metrics: a user not in metrics.users', 'read', 'GET', '/metrics', false],
    ['/metrics: a user in metrics.users', 'prom', 'GET', '/metrics', true],
    ['a UI path is forwarded', 'anonymous', 'GET', '/', true],
  ] as const)('%s', async (_name, who, method, path, allowed) => {
    const result = await attempt(who, method, path, method === 'POST' ? '{}' : undefined);
    expect(result.forwarded).toBe(allowed);
    if (!allowed) expect(result.response.status).toBe(403);
  });

  it('search refusal says why', async () => {
    const { response } = await attempt('read', 'GET', '/v2/_zot/ext/search?query=x');
    expect(ociError(response)).toEqual({
      code: 'DENIED',
      message: 'user "read" may not use search, which needs read on every repository',
      detail: { reason: 'read-all-required' },
    });
  });

  it.each([
    ['an unknown route under /v2/', 'GET', '/v2/t/app/whatever/x'],
    ['an unknown route under /v2/ for an admin', 'GET', '/v2/t/app/blobs'],
  ])('%s is denied and never forwarded', async (_name, method, path) => {
    const result = await attempt('admin', method, path);
    expect(result.response.status).toBe(403);
    expect(ociError(result.response).detail.reason).toBe('unknown-route');
    expect(stack.recorder.requests).toEqual([]);
  });
});
