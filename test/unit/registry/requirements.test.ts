import { describe, expect, it } from 'vitest';
import { parseRequest } from '../../../src/registry/parse.js';
import { requirementOf } from '../../../src/registry/requirements.js';
import type { Action, ParsedRequest, Requirement } from '../../../src/registry/types.js';

const D = `sha256:${'a'.repeat(64)}`;
const SESSION = '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';

function requirement(method: string, rawUrl: string): Requirement {
  const result = parseRequest(method, rawUrl);
  if (!result.ok) throw new Error(`expected ${rawUrl} to parse, got ${JSON.stringify(result.invalid)}`);
  return requirementOf(method, result.request);
}

const on = (repository: string, action: Action): Requirement => ({ kind: 'repository', checks: [{ repository, action }] });
const admin = (action: Action): Requirement => ({ kind: 'admin', action });
const notAllowed = (message: string): Requirement => ({ kind: 'refused', status: 405, reason: 'method-not-allowed', message });

describe('request → action: every row', () => {
  it.each<[string, string, Requirement]>([
    // read
    ['GET', '/v2/org/app/manifests/latest', on('org/app', 'read')],
    ['HEAD', '/v2/org/app/manifests/latest', on('org/app', 'read')],
    ['GET', `/v2/app/manifests/${D}`, on('app', 'read')],
    ['HEAD', `/v2/app/manifests/${D}`, on('app', 'read')],
    ['GET', `/v2/app/blobs/${D}`, on('app', 'read')],
    ['HEAD', `/v2/app/blobs/${D}`, on('app', 'read')],
    ['GET', '/v2/app/tags/list', on('app', 'read')],
    ['HEAD', '/v2/app/tags/list', on('app', 'read')],
    ['GET', `/v2/app/referrers/${D}`, on('app', 'read')],
    ['HEAD', `/v2/app/referrers/${D}`, on('app', 'read')],
    ['GET', `/v2/app/blobs/uploads/${SESSION}`, on('app', 'read')],
    // uploads
    ['POST', '/v2/app/blobs/uploads/', on('app', 'create')],
    ['POST', `/v2/app/blobs/uploads/?digest=${D}`, on('app', 'create')],
    ['PATCH', `/v2/app/blobs/uploads/${SESSION}`, on('app', 'create')],
    ['PUT', `/v2/app/blobs/uploads/${SESSION}?digest=${D}`, on('app', 'create')],
    ['DELETE', `/v2/app/blobs/uploads/${SESSION}`, on('app', 'delete')],
    // mounts
    [
      'POST',
      `/v2/app/blobs/uploads/?mount=${D}&from=base/image`,
      {
        kind: 'repository',
        checks: [
          { repository: 'app', action: 'create' },
          { repository: 'base/image', action: 'read' },
        ],
      },
    ],
    ['POST', `/v2/app/blobs/uploads/?mount=${D}`, on('app', 'create')],
    ['POST', '/v2/app/blobs/uploads/?from=base/image', on('app', 'create')],
    // manifest writes
    ['PUT', '/v2/app/manifests/v1', { kind: 'tag-write', repository: 'app', tags: ['v1'] }],
    ['PUT', '/v2/app/manifests/LATEST', { kind: 'tag-write', repository: 'app', tags: ['LATEST'] }],
    ['PUT', `/v2/app/manifests/${D}`, on('app', 'create')],
    ['PUT', `/v2/app/manifests/${D}?tag=a&tag=b`, { kind: 'tag-write', repository: 'app', tags: ['a', 'b'] }],
    ['PUT', `/v2/app/manifests/${D}?tag=a&tag=a`, { kind: 'tag-write', repository: 'app', tags: ['a'] }],
    ['PUT', '/v2/app/manifests/v1?tag=v2', { kind: 'tag-write', repository: 'app', tags: ['v1', 'v2'] }],
    // deletes
    ['DELETE', '/v2/app/manifests/v1', on('app', 'delete')],
    ['DELETE', `/v2/app/manifests/${D}`, on('app', 'delete')],
    ['DELETE', `/v2/app/blobs/${D}`, on('app', 'delete')],
    // catalog and base
    ['GET', '/v2/_catalog', { kind: 'catalog' }],
    ['GET', '/v2/_catalog?n=10', { kind: 'catalog' }],
    ['GET', '/v2/', { kind: 'base' }],
    ['HEAD', '/v2/', { kind: 'base' }],
    ['GET', '/v2', { kind: 'base' }],
    // extensions
    ['GET', '/v2/_zot/ext/mgmt', { kind: 'none' }],
    ['HEAD', '/v2/_zot/ext/mgmt', { kind: 'none' }],
    ['GET', '/v2/_zot/ext/mgmt?resource=config', { kind: 'none' }],
    ['POST', '/v2/_zot/ext/mgmt', admin('create')],
    ['GET', '/v2/_zot/ext/search?query={ImageList}', { kind: 'read-all' }],
    ['POST', '/v2/_zot/ext/search', { kind: 'read-all' }],
    ['HEAD', '/v2/_zot/ext/search', { kind: 'read-all' }],
    ['PUT', '/v2/_zot/ext/search', admin('create')],
    ['GET', '/v2/_zot/ext/cosign', admin('read')],
    ['POST', '/v2/_zot/ext/cosign', admin('create')],
    ['POST', '/v2/_zot/ext/notation?truststoreType=ca', admin('create')],
    ['PUT', '/v2/_zot/ext/userprefs?action=toggleStar&repo=app', admin('create')],
    ['PATCH', '/v2/_zot/ext/anything/else', admin('create')],
    ['DELETE', '/v2/_zot/ext/cosign', admin('delete')],
    ['HEAD', '/v2/_oci/ext/discover', admin('read')],
    ['GET', '/v2/_oci/ext/discover', admin('read')],
    ['GET', '/v2/_zot/ext/Mgmt', admin('read')],
    ['GET', '/v2/_oci/ext/mgmt', { kind: 'none' }],
    // metrics and UI
    ['GET', '/metrics', { kind: 'metrics' }],
    ['HEAD', '/metrics', { kind: 'metrics' }],
    ['GET', '/', { kind: 'none' }],
    ['HEAD', '/assets/index.js', { kind: 'none' }],
  ])('%s %s', (method, rawUrl, expected) => {
    expect(requirement(method, rawUrl)).toEqual(expected);
  });
});

describe('methods a route does not have are refused with 405', () => {
  it.each<[string, string, string]>([
    ['POST', '/v2/app/manifests/latest', 'POST is not allowed on a manifest'],
    ['PATCH', `/v2/app/manifests/${D}`, 'PATCH is not allowed on a manifest'],
    ['PATCH', `/v2/app/blobs/${D}`, 'PATCH is not allowed on a blob'],
    ['PUT', `/v2/app/blobs/${D}`, 'PUT is not allowed on a blob'],
    ['POST', `/v2/app/blobs/${D}`, 'POST is not allowed on a blob'],
    ['DELETE', '/v2/app/tags/list', 'DELETE is not allowed on the tag list'],
    ['PUT', '/v2/app/tags/list', 'PUT is not allowed on the tag list'],
    ['DELETE', `/v2/app/referrers/${D}`, 'DELETE is not allowed on the referrers list'],
    ['GET', '/v2/app/blobs/uploads/', 'GET is not allowed on an upload start (blobs/uploads/)'],
    ['PUT', '/v2/app/blobs/uploads/', 'PUT is not allowed on an upload start (blobs/uploads/)'],
    ['HEAD', `/v2/app/blobs/uploads/${SESSION}`, 'HEAD is not allowed on an upload session'],
    ['POST', `/v2/app/blobs/uploads/${SESSION}`, 'POST is not allowed on an upload session'],
    ['POST', '/v2/_catalog', 'POST is not allowed on the catalog'],
    ['HEAD', '/v2/_catalog', 'HEAD is not allowed on the catalog'],
    ['POST', '/v2/', 'POST is not allowed on the API version check (/v2/)'],
    ['DELETE', '/v2/', 'DELETE is not allowed on the API version check (/v2/)'],
    ['POST', '/metrics', 'POST is not allowed on metrics'],
    ['POST', '/', 'POST is not allowed on the zot UI, which is read-only'],
    ['PUT', '/assets/index.js', 'PUT is not allowed on the zot UI, which is read-only'],
    ['DELETE', '/home', 'DELETE is not allowed on the zot UI, which is read-only'],
    ['TRACE', '/v2/_zot/ext/cosign', 'TRACE is not allowed on the "cosign" extension'],
    ['get', '/v2/app/manifests/latest', 'get is not allowed on a manifest'],
    // OPTIONS anywhere
    ['OPTIONS', '/v2/', 'OPTIONS is not allowed on the API version check (/v2/)'],
    ['OPTIONS', '/v2/app/manifests/latest', 'OPTIONS is not allowed on a manifest'],
    ['OPTIONS', '/v2/_zot/ext/mgmt', 'OPTIONS is not allowed on the "mgmt" extension'],
    ['OPTIONS', '/v2/_zot/ext/search', 'OPTIONS is not allowed on the "search" extension'],
    ['OPTIONS', '/metrics', 'OPTIONS is not allowed on metrics'],
    ['OPTIONS', '/', 'OPTIONS is not allowed on the zot UI, which is read-only'],
    ['OPTIONS', '/v2/app', 'OPTIONS is not allowed on an unknown /v2/ path'],
  ])('%s %s', (method, rawUrl, message) => {
    expect(requirement(method, rawUrl)).toEqual(notAllowed(message));
  });
});

describe('anything else under /v2/ is denied whatever the method', () => {
  it.each<[string, string]>([
    ['GET', '/v2/app'],
    ['PUT', '/v2/app/'],
    ['DELETE', '/v2/app/tags/list/'],
    ['GET', '/v2/_zot/ext/'],
    ['POST', '/v2/blobs/uploads/'],
    ['GET', '/v2/app/uploads/x?n=1'],
  ])('%s %s', (method, rawUrl) => {
    const path = rawUrl.split('?')[0];
    expect(requirement(method, rawUrl)).toEqual({
      kind: 'refused',
      status: 403,
      reason: 'unknown-route',
      message: `${JSON.stringify(path)} is neither an OCI distribution route nor a zot extension; it is not forwarded`,
    });
  });
});

describe('requirementOf reads the query it is given, not only what parse keeps', () => {
  it.each<[string, string, ParsedRequest, Requirement]>([
    [
      'a mount whose from comes first',
      'POST',
      {
        route: { kind: 'upload-start', name: 'app' },
        upstreamUrl: '/v2/app/blobs/uploads/',
        query: [
          ['from', 'other'],
          ['mount', D],
        ],
      },
      {
        kind: 'repository',
        checks: [
          { repository: 'app', action: 'create' },
          { repository: 'other', action: 'read' },
        ],
      },
    ],
    [
      'a PUT by tag that repeats its own tag in ?tag',
      'PUT',
      {
        route: { kind: 'manifest', name: 'app', reference: { kind: 'tag', tag: 'v1' } },
        upstreamUrl: '/v2/app/manifests/v1',
        query: [['tag', 'v1']],
      },
      { kind: 'tag-write', repository: 'app', tags: ['v1'] },
    ],
  ])('%s', (_label, method, request, expected) => {
    expect(requirementOf(method, request)).toEqual(expected);
  });
});
