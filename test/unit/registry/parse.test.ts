import { describe, expect, it } from 'vitest';
import { parseRequest } from '../../../src/registry/parse.js';
import type { RequestReason } from '../../../src/policy/types.js';
import type { Invalid, ParsedRequest } from '../../../src/registry/types.js';

const D = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;
const D512 = `sha512:${'c'.repeat(128)}`;
const E = encodeURIComponent;

function parsed(method: string, rawUrl: string): ParsedRequest {
  const result = parseRequest(method, rawUrl);
  if (!result.ok) throw new Error(`expected ${rawUrl} to parse, got ${JSON.stringify(result.invalid)}`);
  return result.request;
}

function refused(method: string, rawUrl: string): Invalid {
  const result = parseRequest(method, rawUrl);
  if (result.ok) throw new Error(`expected ${rawUrl} to be refused, got ${JSON.stringify(result.request)}`);
  return result.invalid;
}

describe('routes', () => {
  it.each<[string, ParsedRequest]>([
    ['/v2/', { route: { kind: 'base' }, upstreamUrl: '/v2/', query: [] }],
    ['/v2', { route: { kind: 'base' }, upstreamUrl: '/v2/', query: [] }],
    ['/v2/?x=1', { route: { kind: 'base' }, upstreamUrl: '/v2/', query: [] }],
    ['/v2/_catalog', { route: { kind: 'catalog' }, upstreamUrl: '/v2/_catalog', query: [] }],
    [
      '/v2/app/manifests/latest',
      { route: { kind: 'manifest', name: 'app', reference: { kind: 'tag', tag: 'latest' } }, upstreamUrl: '/v2/app/manifests/latest', query: [] },
    ],
    [
      '/v2/app/manifests/LATEST',
      { route: { kind: 'manifest', name: 'app', reference: { kind: 'tag', tag: 'LATEST' } }, upstreamUrl: '/v2/app/manifests/LATEST', query: [] },
    ],
    [
      `/v2/org/team/app/manifests/${D}`,
      {
        route: { kind: 'manifest', name: 'org/team/app', reference: { kind: 'digest', digest: D } },
        upstreamUrl: `/v2/org/team/app/manifests/${D}`,
        query: [],
      },
    ],
    [`/v2/app/blobs/${D512}`, { route: { kind: 'blob', name: 'app', digest: D512 }, upstreamUrl: `/v2/app/blobs/${D512}`, query: [] }],
    ['/v2/app/blobs/uploads/', { route: { kind: 'upload-start', name: 'app' }, upstreamUrl: '/v2/app/blobs/uploads/', query: [] }],
    [
      '/v2/app/blobs/uploads/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0',
      {
        route: { kind: 'upload', name: 'app', session: '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0' },
        upstreamUrl: '/v2/app/blobs/uploads/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0',
        query: [],
      },
    ],
    ['/v2/app/tags/list', { route: { kind: 'tags', name: 'app' }, upstreamUrl: '/v2/app/tags/list', query: [] }],
    [`/v2/app/referrers/${D}`, { route: { kind: 'referrers', name: 'app', digest: D }, upstreamUrl: `/v2/app/referrers/${D}`, query: [] }],
    // Names may hold the words routes are made of: routes match from the end.
    [
      '/v2/a/blobs/manifests/latest',
      { route: { kind: 'manifest', name: 'a/blobs', reference: { kind: 'tag', tag: 'latest' } }, upstreamUrl: '/v2/a/blobs/manifests/latest', query: [] },
    ],
    [
      '/v2/a/manifests/x/manifests/v1',
      { route: { kind: 'manifest', name: 'a/manifests/x', reference: { kind: 'tag', tag: 'v1' } }, upstreamUrl: '/v2/a/manifests/x/manifests/v1', query: [] },
    ],
    [
      `/v2/blobs/blobs/${D}`,
      { route: { kind: 'blob', name: 'blobs', digest: D }, upstreamUrl: `/v2/blobs/blobs/${D}`, query: [] },
    ],
    [
      '/v2/a/manifests/blobs/uploads/',
      { route: { kind: 'upload-start', name: 'a/manifests' }, upstreamUrl: '/v2/a/manifests/blobs/uploads/', query: [] },
    ],
    [
      '/v2/a/blobs/uploads/manifests/v1',
      { route: { kind: 'manifest', name: 'a/blobs/uploads', reference: { kind: 'tag', tag: 'v1' } }, upstreamUrl: '/v2/a/blobs/uploads/manifests/v1', query: [] },
    ],
    ['/v2/tags/list/tags/list', { route: { kind: 'tags', name: 'tags/list' }, upstreamUrl: '/v2/tags/list/tags/list', query: [] }],
    [
      '/v2/_zot/ext/search?query=%7BImageList%7D&x=1',
      {
        route: { kind: 'extension', extension: 'search' },
        upstreamUrl: '/v2/_zot/ext/search?query=%7BImageList%7D&x=1',
        query: [
          ['query', '{ImageList}'],
          ['x', '1'],
        ],
      },
    ],
    ['/v2/_zot/ext/mgmt', { route: { kind: 'extension', extension: 'mgmt' }, upstreamUrl: '/v2/_zot/ext/mgmt', query: [] }],
    ['/v2/_zot/ext/mgmt?', { route: { kind: 'extension', extension: 'mgmt' }, upstreamUrl: '/v2/_zot/ext/mgmt', query: [] }],
    [
      '/v2/_zot/ext/cosign/keys/x',
      { route: { kind: 'extension', extension: 'cosign' }, upstreamUrl: '/v2/_zot/ext/cosign/keys/x', query: [] },
    ],
    ['/v2/_oci/ext/discover', { route: { kind: 'extension', extension: 'discover' }, upstreamUrl: '/v2/_oci/ext/discover', query: [] }],
    ['/metrics', { route: { kind: 'metrics' }, upstreamUrl: '/metrics', query: [] }],
    ['/metrics?name[]=x', { route: { kind: 'metrics' }, upstreamUrl: '/metrics', query: [] }],
    ['/', { route: { kind: 'ui' }, upstreamUrl: '/', query: [] }],
    ['/home', { route: { kind: 'ui' }, upstreamUrl: '/home', query: [] }],
    ['/assets/index-3f2a.js', { route: { kind: 'ui' }, upstreamUrl: '/assets/index-3f2a.js', query: [] }],
    ['/.well-known/x', { route: { kind: 'ui' }, upstreamUrl: '/.well-known/x', query: [] }],
    ['/image/a%20b?tab=layers', { route: { kind: 'ui' }, upstreamUrl: '/image/a%20b?tab=layers', query: [['tab', 'layers']] }],
    ['/explore/', { route: { kind: 'ui' }, upstreamUrl: '/explore/', query: [] }],
  ])('%s', (rawUrl, expected) => {
    expect(parsed('GET', rawUrl)).toEqual(expected);
  });
});

describe('well-formed /v2 paths that are no route are unknown, never forwarded as is', () => {
  it.each([
    '/v2/app',
    '/v2/app/',
    '/v2/app/tags/list/',
    '/v2/app/tags/other',
    '/v2/app/uploads/x',
    '/v2/manifests/latest',
    '/v2/blobs/uploads/',
    '/v2/_catalog/',
    '/v2/_zot/ext/',
    '/v2/_zot/x/search',
    '/v2/_zot',
    '/v2/app/_catalog',
  ])('%s', (rawUrl) => {
    expect(parsed('GET', rawUrl)).toEqual({ route: { kind: 'unknown' }, upstreamUrl: rawUrl, query: [] });
  });

  it('drops the query of an unknown route', () => {
    expect(parsed('GET', '/v2/app?x=1')).toEqual({ route: { kind: 'unknown' }, upstreamUrl: '/v2/app', query: [] });
  });
});

describe('path tricks are refused before any decision', () => {
  const reject = (path: string, reason: RequestReason, why: string): [string, Invalid] => [
    path,
    { code: 'UNSUPPORTED', reason, message: `path ${JSON.stringify(path)} is refused: ${why}` },
  ];
  const encoded = 'percent-encoding is not allowed in registry paths';
  it.each<[string, Invalid]>([
    reject('/v2/a/../b/manifests/latest', 'dot-segment', 'it contains a "." or ".." segment'),
    reject('/v2/../metrics', 'dot-segment', 'it contains a "." or ".." segment'),
    reject('/v2/./app/tags/list', 'dot-segment', 'it contains a "." or ".." segment'),
    reject('/v2/app/manifests/..', 'dot-segment', 'it contains a "." or ".." segment'),
    reject('/v2/app/manifests/.', 'dot-segment', 'it contains a "." or ".." segment'),
    reject('/v2/a%2Fb/manifests/latest', 'percent-encoded', encoded),
    reject('/v2/a/%2e%2e/b/tags/list', 'percent-encoded', encoded),
    reject('/v2/a%5Cb/tags/list', 'percent-encoded', encoded),
    reject('/v2/app/manifests/lat%65st', 'percent-encoded', encoded),
    reject('/v2/app/manifests/sha256%3Aabc', 'percent-encoded', encoded),
    reject('/v2/..%2F/x', 'percent-encoded', encoded),
    reject('/v2/a\\b/tags/list', 'backslash', 'it contains a backslash'),
    reject('/v2/app/manifests/latest;x=y', 'path-parameter', 'path parameters (";") are not allowed'),
    reject('/v2/app;x=y/tags/list', 'path-parameter', 'path parameters (";") are not allowed'),
    reject('/v2//app/tags/list', 'empty-segment', 'it contains an empty segment ("//")'),
    reject('/v2/a//b/tags/list', 'empty-segment', 'it contains an empty segment ("//")'),
    reject('/v2/app/blobs/uploads//', 'empty-segment', 'it contains an empty segment ("//")'),
    reject('/v2//', 'empty-segment', 'it contains an empty segment ("//")'),
    reject('/v2/app/tags/list\x00', 'control-character', 'it contains a control character'),
    reject('/v2/app/manifests/latest?x=\t', 'control-character', 'it contains a control character'),
    reject('/v2/app/manifests/lätest', 'non-ascii', 'it contains a non-ASCII character'),
    reject('/home?q=é', 'non-ascii', 'it contains a non-ASCII character'),
  ])('%j', (rawUrl, expected) => {
    expect(refused('GET', rawUrl)).toEqual(expected);
  });

  it.each([
    ['http://127.0.0.1:5051/v2/app/manifests/latest'],
    ['*'],
    [''],
    ['v2/app/tags/list'],
  ])('a target that is not a path: %j', (rawUrl) => {
    expect(refused('GET', rawUrl)).toEqual({
      code: 'UNSUPPORTED',
      reason: 'not-origin-form',
      message: `request target ${JSON.stringify(rawUrl)} is refused: it must be a path starting with "/"`,
    });
  });
});

describe('names, tags and digests in the path follow the OCI grammar', () => {
  const nameRule = 'each component is lowercase letters and digits, separated by ".", "_", "__" or "-"';
  it.each<[string, Invalid]>([
    ['/v2/Foo/manifests/latest', { code: 'NAME_INVALID', reason: 'name-grammar', message: 'repository name "Foo" is invalid: names are lowercase' }],
    ['/v2/org/App/tags/list', { code: 'NAME_INVALID', reason: 'name-grammar', message: 'repository name "org/App" is invalid: names are lowercase' }],
    ['/v2/a..b/tags/list', { code: 'NAME_INVALID', reason: 'name-grammar', message: `repository name "a..b" is invalid: ${nameRule}` }],
    ['/v2/-a/blobs/uploads/', { code: 'NAME_INVALID', reason: 'name-grammar', message: `repository name "-a" is invalid: ${nameRule}` }],
    ['/v2/_catalog/tags/list', { code: 'NAME_INVALID', reason: 'name-grammar', message: `repository name "_catalog" is invalid: ${nameRule}` }],
    [
      '/v2/app/blobs/sha256:abc',
      { code: 'DIGEST_INVALID', reason: 'digest-grammar', message: 'digest "sha256:abc" is invalid: sha256 needs 64 lowercase hex characters' },
    ],
    [
      `/v2/app/blobs/md5:${'a'.repeat(32)}`,
      {
        code: 'DIGEST_INVALID',
        reason: 'digest-algorithm',
        message: `digest "md5:${'a'.repeat(32)}" is invalid: algorithm "md5" is not supported (sha256, sha512)`,
      },
    ],
    [
      `/v2/app/referrers/sha512:${'a'.repeat(64)}`,
      {
        code: 'DIGEST_INVALID',
        reason: 'digest-grammar',
        message: `digest "sha512:${'a'.repeat(64)}" is invalid: sha512 needs 128 lowercase hex characters`,
      },
    ],
    // dist-spec's POST form has the trailing slash; without it `uploads` is read as a digest, as zot does.
    ['/v2/app/blobs/uploads', { code: 'DIGEST_INVALID', reason: 'digest-grammar', message: 'digest "uploads" is invalid: a digest is "algorithm:hex"' }],
    [
      '/v2/app/blobs/uploads/a.b',
      {
        code: 'UNSUPPORTED',
        reason: 'session-grammar',
        message: 'upload session id "a.b" is invalid: a session id is 1 to 256 letters, digits, "_", "=" or "-"',
      },
    ],
  ])('%s', (rawUrl, expected) => {
    expect(refused('GET', rawUrl)).toEqual(expected);
  });

  describe('a manifest reference that is neither a tag nor a digest: 404 MANIFEST_UNKNOWN on reads (zot), 400 on writes', () => {
    const unknown = (shown: string): Invalid => ({
      status: 404,
      code: 'MANIFEST_UNKNOWN',
      reason: 'reference-grammar',
      message: `manifest ${shown} is not known in repository "app": it is neither a tag nor a digest`,
    });
    const startsWith = 'a tag starts with a letter, a digit or "_"';
    it.each<[string, string, Invalid]>([
      ['-latest', '"-latest"', { code: 'TAG_INVALID', reason: 'tag-grammar', message: `tag "-latest" is invalid: ${startsWith}` }],
      ['.INVALID_MANIFEST_NAME', '".INVALID_MANIFEST_NAME"', { code: 'TAG_INVALID', reason: 'tag-grammar', message: `tag ".INVALID_MANIFEST_NAME" is invalid: ${startsWith}` }],
      [
        'v'.repeat(129),
        `"${'v'.repeat(80)}..."`,
        { code: 'TAG_INVALID', reason: 'tag-grammar', message: `tag "${'v'.repeat(80)}..." is invalid: tags are at most 128 characters` },
      ],
      ['', '""', { code: 'TAG_INVALID', reason: 'tag-grammar', message: `tag "" is invalid: ${startsWith}` }],
      [
        `sha256:${'A'.repeat(64)}`,
        `"sha256:${'A'.repeat(64)}"`,
        { code: 'DIGEST_INVALID', reason: 'digest-grammar', message: `digest "sha256:${'A'.repeat(64)}" is invalid: sha256 needs 64 lowercase hex characters` },
      ],
      ['sha256:XYZ', '"sha256:XYZ"', { code: 'DIGEST_INVALID', reason: 'digest-grammar', message: 'digest "sha256:XYZ" is invalid: sha256 needs 64 lowercase hex characters' }],
      [
        `md5:${'a'.repeat(32)}`,
        `"md5:${'a'.repeat(32)}"`,
        { code: 'DIGEST_INVALID', reason: 'digest-algorithm', message: `digest "md5:${'a'.repeat(32)}" is invalid: algorithm "md5" is not supported (sha256, sha512)` },
      ],
      // a quote in the reference is escaped, not echoed
      ['a"b', '"a\\"b"', { code: 'TAG_INVALID', reason: 'tag-grammar', message: 'tag "a\\"b" is invalid: a tag holds only letters, digits, "_", "." and "-"' }],
    ])('%j', (reference, shown, written) => {
      const path = `/v2/app/manifests/${reference}`;
      expect(refused('GET', path)).toEqual(unknown(shown));
      expect(refused('HEAD', path)).toEqual(unknown(shown));
      expect(refused('PUT', path)).toEqual(written);
      expect(refused('DELETE', path)).toEqual(written);
    });

    it('a malformed name is still a 400 on reads', () => {
      expect(refused('GET', '/v2/App/manifests/-latest').code).toBe('NAME_INVALID');
    });
  });

  it('accepts a name of exactly 255 characters', () => {
    const name = `${'a'.repeat(127)}/${'b'.repeat(127)}`;
    expect(name).toHaveLength(255);
    expect(parsed('GET', `/v2/${name}/tags/list`).route).toEqual({ kind: 'tags', name });
  });

  it('refuses a name of 256 characters', () => {
    const name = `${'a'.repeat(128)}/${'b'.repeat(127)}`;
    expect(refused('GET', `/v2/${name}/tags/list`)).toEqual({
      code: 'NAME_INVALID',
      reason: 'name-too-long',
      message: `repository name "${'a'.repeat(80)}..." is invalid: names are at most 255 characters`,
    });
  });
});

describe('paths outside /v2 cannot reach the registry through decoding or case folding', () => {
  const reject = (path: string, reason: RequestReason, why: string): [string, Invalid] => [
    path,
    { code: 'UNSUPPORTED', reason, message: `path ${JSON.stringify(path)} is refused: ${why}` },
  ];
  const reaches = (prefix: string): string => `decoded and lowercased, it starts with "${prefix}", which is not a UI path`;
  it.each<[string, Invalid]>([
    reject('/%762/x', 'reserved-path', reaches('/v2')),
    reject('/%2576%2532/x', 'reserved-path', reaches('/v2')),
    reject('/V2/x', 'reserved-path', reaches('/v2')),
    reject('/V2', 'reserved-path', reaches('/v2')),
    reject('/v2%2F_catalog', 'reserved-path', reaches('/v2')),
    reject('/v2x', 'reserved-path', reaches('/v2')),
    reject('/metrics%2F', 'reserved-path', reaches('/metrics')),
    reject('/metrics/', 'reserved-path', reaches('/metrics')),
    reject('/Metrics', 'reserved-path', reaches('/metrics')),
    reject('/zot/auth/apikey', 'reserved-path', reaches('/zot/auth')),
    reject('/ZOT/Auth/token', 'reserved-path', reaches('/zot/auth')),
    reject('/zot/auth/change_password', 'reserved-path', reaches('/zot/auth')),
    reject('/auth/apikey', 'reserved-path', reaches('/auth')),
    reject('/oras/artifacts/v1/app/manifests/x/referrers', 'reserved-path', reaches('/oras/artifacts')),
    reject('/foo/..%2F..%2Fv2/x', 'dot-segment', 'it contains a "." or ".." segment once percent-decoded'),
    reject('/foo/%2e%2e/v2/x', 'dot-segment', 'it contains a "." or ".." segment once percent-decoded'),
    reject('/foo/%252e%252e/bar', 'dot-segment', 'it contains a "." or ".." segment once percent-decoded'),
    reject('/foo/../v2/x', 'dot-segment', 'it contains a "." or ".." segment'),
    reject('/./v2/', 'dot-segment', 'it contains a "." or ".." segment'),
    reject('//v2/x', 'empty-segment', 'it contains an empty segment ("//")'),
    reject('/%2Fv2/x', 'empty-segment', 'it contains an empty segment ("//") once percent-decoded'),
    reject('/foo\\bar', 'backslash', 'it contains a backslash'),
    reject('/foo%5Cbar', 'backslash', 'it contains a backslash once percent-decoded'),
    reject('/foo%00', 'control-character', 'it contains a control character once percent-decoded'),
    reject('/foo%250A', 'control-character', 'it contains a control character once percent-decoded'),
    reject('/x%25252541', 'nested-percent-encoding', 'it is still percent-encoded after 3 rounds of decoding'),
  ])('%s', (rawUrl, expected) => {
    expect(refused('GET', rawUrl)).toEqual(expected);
  });

  describe('/-/ is the gate\'s own namespace: what reaches the parser there is not served, 404', () => {
    it.each(['/-/account/', '/-/Account', '/-/ACCOUNT/keys', '/-/healthz/', '/-/', '/-', '/-/x?y=1', '/%2D/account', '/%2d%2Faccount', '/%252D/x'])('%s', (rawUrl) => {
      const path = rawUrl.split('?')[0]!;
      for (const method of ['GET', 'POST', 'DELETE']) {
        expect(refused(method, rawUrl)).toEqual({
          status: 404,
          code: 'UNSUPPORTED',
          reason: 'gate-path-unknown',
          message: `path ${JSON.stringify(path)} is not served: paths under "/-/" are the gate's own and never forwarded`,
        });
      }
    });

    it.each(['/-foo', '/--/x', '/a/-/b', '/assets/-'])('%s only looks alike: a UI path', (rawUrl) => {
      expect(parsed('GET', rawUrl).route).toEqual({ kind: 'ui' });
    });

    it('a path trick under /-/ is refused as one', () => {
      expect(refused('GET', '/-/../v2/x').reason).toBe('dot-segment');
    });
  });

  it.each([
    ['/x%252541', '/x%252541'],
    ['/a%25', '/a%25'],
    ['/image/library%2Fnginx', '/image/library%2Fnginx'],
    ['/assets/app.js?v=%2e%2e', '/assets/app.js?v=%2e%2e'],
  ])('forwards %s raw', (rawUrl, upstreamUrl) => {
    expect(parsed('GET', rawUrl).upstreamUrl).toBe(upstreamUrl);
    expect(parsed('GET', rawUrl).route).toEqual({ kind: 'ui' });
  });
});

describe('query: only the parameters a route uses are kept, validated and re-encoded', () => {
  const state = 'eyJOYW1lIjoiYXBwIn0=.a-b_c+d/e';
  it.each<[string, string, ParsedRequest]>([
    [
      'PUT',
      `/v2/app/manifests/${D}?tag=v1&x=1&tag=latest`,
      {
        route: { kind: 'manifest', name: 'app', reference: { kind: 'digest', digest: D } },
        upstreamUrl: `/v2/app/manifests/${D}?tag=v1&tag=latest`,
        query: [
          ['tag', 'v1'],
          ['tag', 'latest'],
        ],
      },
    ],
    [
      'GET',
      `/v2/app/manifests/${D}?tag=v1`,
      { route: { kind: 'manifest', name: 'app', reference: { kind: 'digest', digest: D } }, upstreamUrl: `/v2/app/manifests/${D}`, query: [] },
    ],
    [
      'PUT',
      '/v2/app/manifests/v1?tag=v2',
      {
        route: { kind: 'manifest', name: 'app', reference: { kind: 'tag', tag: 'v1' } },
        upstreamUrl: '/v2/app/manifests/v1?tag=v2',
        query: [['tag', 'v2']],
      },
    ],
    [
      'POST',
      `/v2/app/blobs/uploads/?mount=${D}&from=base%2Fimage&foo=bar`,
      {
        route: { kind: 'upload-start', name: 'app' },
        upstreamUrl: `/v2/app/blobs/uploads/?mount=${E(D)}&from=base%2Fimage`,
        query: [
          ['mount', D],
          ['from', 'base/image'],
        ],
      },
    ],
    [
      'POST',
      `/v2/app/blobs/uploads/?mount=${D}`,
      { route: { kind: 'upload-start', name: 'app' }, upstreamUrl: '/v2/app/blobs/uploads/', query: [], mountDropped: true },
    ],
    [
      'POST',
      `/v2/app/blobs/uploads/?mount=${D}&digest=${D2}`,
      {
        route: { kind: 'upload-start', name: 'app' },
        upstreamUrl: `/v2/app/blobs/uploads/?digest=${E(D2)}`,
        query: [['digest', D2]],
        mountDropped: true,
      },
    ],
    [
      'POST',
      '/v2/app/blobs/uploads/?from=other',
      { route: { kind: 'upload-start', name: 'app' }, upstreamUrl: '/v2/app/blobs/uploads/', query: [] },
    ],
    [
      'POST',
      `/v2/app/blobs/uploads/?digest=${D}`,
      { route: { kind: 'upload-start', name: 'app' }, upstreamUrl: `/v2/app/blobs/uploads/?digest=${E(D)}`, query: [['digest', D]] },
    ],
    [
      'PUT',
      `/v2/app/blobs/uploads/u-1?_state=${E(state)}&digest=${D}&evil=1`,
      {
        route: { kind: 'upload', name: 'app', session: 'u-1' },
        upstreamUrl: `/v2/app/blobs/uploads/u-1?_state=${E(state)}&digest=${E(D)}`,
        query: [
          ['_state', state],
          ['digest', D],
        ],
      },
    ],
    [
      'PATCH',
      '/v2/app/blobs/uploads/u-1?_state=a%3D%3D',
      { route: { kind: 'upload', name: 'app', session: 'u-1' }, upstreamUrl: '/v2/app/blobs/uploads/u-1?_state=a%3D%3D', query: [['_state', 'a==']] },
    ],
    [
      'PATCH',
      '/v2/app/blobs/uploads/u-1?_state=a==',
      { route: { kind: 'upload', name: 'app', session: 'u-1' }, upstreamUrl: '/v2/app/blobs/uploads/u-1?_state=a%3D%3D', query: [['_state', 'a==']] },
    ],
    [
      'GET',
      '/v2/app/tags/list?n=0&last=v1.0&q=1',
      {
        route: { kind: 'tags', name: 'app' },
        upstreamUrl: '/v2/app/tags/list?n=0&last=v1.0',
        query: [
          ['n', '0'],
          ['last', 'v1.0'],
        ],
      },
    ],
    [
      'GET',
      '/v2/_catalog?n=10000&last=org%2Fapp',
      {
        route: { kind: 'catalog' },
        upstreamUrl: '/v2/_catalog?n=10000&last=org%2Fapp',
        query: [
          ['n', '10000'],
          ['last', 'org/app'],
        ],
      },
    ],
    [
      'GET',
      `/v2/app/referrers/${D}?artifactType=application%2Fvnd.dev.cosign.artifact.sig.v1%2Bjson&n=1`,
      {
        route: { kind: 'referrers', name: 'app', digest: D },
        upstreamUrl: `/v2/app/referrers/${D}?artifactType=application%2Fvnd.dev.cosign.artifact.sig.v1%2Bjson`,
        query: [['artifactType', 'application/vnd.dev.cosign.artifact.sig.v1+json']],
      },
    ],
    [
      'GET',
      `/v2/app/blobs/${D}?digest=${D2}&_state=x`,
      { route: { kind: 'blob', name: 'app', digest: D }, upstreamUrl: `/v2/app/blobs/${D}`, query: [] },
    ],
  ])('%s %s', (method, rawUrl, expected) => {
    expect(parsed(method, rawUrl)).toEqual(expected);
  });

  it.each<[string, string, Invalid]>([
    [
      'PUT',
      `/v2/app/manifests/${D}?tag=v1&tag=.bad`,
      { code: 'TAG_INVALID', reason: 'tag-grammar', message: 'query parameter "tag": tag ".bad" is invalid: a tag starts with a letter, a digit or "_"' },
    ],
    [
      'POST',
      '/v2/app/blobs/uploads/?mount=sha256:ABC&from=other',
      {
        code: 'DIGEST_INVALID',
        reason: 'digest-grammar',
        message: 'query parameter "mount": digest "sha256:ABC" is invalid: sha256 needs 64 lowercase hex characters',
      },
    ],
    [
      'POST',
      '/v2/app/blobs/uploads/?mount=sha1:abc',
      {
        code: 'DIGEST_INVALID',
        reason: 'digest-algorithm',
        message: 'query parameter "mount": digest "sha1:abc" is invalid: algorithm "sha1" is not supported (sha256, sha512)',
      },
    ],
    [
      'POST',
      `/v2/app/blobs/uploads/?mount=${D}&from=Other`,
      { code: 'NAME_INVALID', reason: 'name-grammar', message: 'query parameter "from": repository name "Other" is invalid: names are lowercase' },
    ],
    [
      'POST',
      `/v2/app/blobs/uploads/?mount=${D}&from=a&from=b`,
      { code: 'UNSUPPORTED', reason: 'repeated-parameter', message: 'query parameter "from": may appear only once' },
    ],
    [
      'PUT',
      `/v2/app/blobs/uploads/u-1?digest=${D}&digest=${D2}`,
      { code: 'UNSUPPORTED', reason: 'repeated-parameter', message: 'query parameter "digest": may appear only once' },
    ],
    [
      'PUT',
      '/v2/app/blobs/uploads/u-1?digest=sha256%3Axyz',
      {
        code: 'DIGEST_INVALID',
        reason: 'digest-grammar',
        message: 'query parameter "digest": digest "sha256:xyz" is invalid: sha256 needs 64 lowercase hex characters',
      },
    ],
    [
      'GET',
      '/v2/app/tags/list?n=10001',
      { code: 'UNSUPPORTED', reason: 'page-size', message: 'query parameter "n": must be a whole number from 0 to 10000, got "10001"' },
    ],
    [
      'GET',
      '/v2/_catalog?n=-1',
      { code: 'UNSUPPORTED', reason: 'page-size', message: 'query parameter "n": must be a whole number from 0 to 10000, got "-1"' },
    ],
    [
      'GET',
      '/v2/_catalog?n=1e3',
      { code: 'UNSUPPORTED', reason: 'page-size', message: 'query parameter "n": must be a whole number from 0 to 10000, got "1e3"' },
    ],
    [
      'GET',
      '/v2/_catalog?n=',
      { code: 'UNSUPPORTED', reason: 'page-size', message: 'query parameter "n": must be a whole number from 0 to 10000, got ""' },
    ],
    [
      'GET',
      '/v2/_catalog?last=Org',
      { code: 'NAME_INVALID', reason: 'name-grammar', message: 'query parameter "last": repository name "Org" is invalid: names are lowercase' },
    ],
    [
      'GET',
      '/v2/app/tags/list?last=a%2Fb',
      { code: 'TAG_INVALID', reason: 'tag-grammar', message: 'query parameter "last": tag "a/b" is invalid: a tag holds only letters, digits, "_", "." and "-"' },
    ],
    [
      'GET',
      `/v2/app/referrers/${D}?artifactType=a&artifactType=b`,
      { code: 'UNSUPPORTED', reason: 'repeated-parameter', message: 'query parameter "artifactType": may appear only once' },
    ],
  ])('%s %s', (method, rawUrl, expected) => {
    expect(refused(method, rawUrl)).toEqual(expected);
  });

  describe('a manifest PUT names at most 46 tags (zot\'s limit), counted as sent', () => {
    const tags = (count: number, name = (i: number) => `t${i}`) => Array.from({ length: count }, (_, i) => `tag=${name(i)}`).join('&');
    const tooMany = (count: number): Invalid => ({
      status: 414,
      code: 'MANIFEST_INVALID',
      reason: 'too-many-tags',
      message: `query parameter "tag": a manifest PUT may name at most 46 tags, this one names ${count}`,
    });

    it.each<[string, string, Invalid]>([
      ['47 tags by digest', `/v2/app/manifests/${D}?${tags(47)}`, tooMany(47)],
      ['1,500 tags by digest', `/v2/app/manifests/${D}?${tags(1500)}`, tooMany(1500)],
      ['47 tags by tag', `/v2/app/manifests/latest?${tags(47)}`, tooMany(47)],
      ['one tag 47 times', `/v2/app/manifests/${D}?${tags(47, () => 'same')}`, tooMany(47)],
      ['47 empty values', `/v2/app/manifests/${D}?${tags(47, () => '')}`, tooMany(47)],
      ['the count comes before the grammar', `/v2/app/manifests/${D}?${tags(46)}&tag=.bad`, tooMany(47)],
    ])('%s', (_name, rawUrl, expected) => {
      expect(refused('PUT', rawUrl)).toEqual(expected);
    });

    it('46 are kept, in order', () => {
      expect(parsed('PUT', `/v2/app/manifests/${D}?${tags(46)}`).query).toEqual(Array.from({ length: 46 }, (_, i) => ['tag', `t${i}`]));
    });

    it('only a PUT counts them: a read drops the parameter', () => {
      expect(parsed('GET', `/v2/app/manifests/${D}?${tags(47)}`).query).toEqual([]);
    });
  });

  it('does not mistake an inherited property for a parameter rule', () => {
    expect(parsed('POST', '/v2/app/blobs/uploads/?constructor=1&__proto__=2&toString=3').query).toEqual([]);
  });
});

describe('upstreamUrl is canonical: parsing it again gives the same request', () => {
  it.each<[string, string]>([
    ['GET', '/v2'],
    ['GET', '/v2/app/manifests/latest?x=1'],
    ['PUT', `/v2/app/manifests/${D}?tag=v1&tag=v2`],
    ['POST', `/v2/org/app/blobs/uploads/?mount=${D}&from=base%2Fimage`],
    ['PUT', '/v2/app/blobs/uploads/u-1?_state=a+b%2Bc%3D&digest=sha256%3A' + 'a'.repeat(64)],
    ['GET', '/v2/_catalog?last=org%2Fapp&n=5'],
    ['GET', `/v2/app/referrers/${D}?artifactType=application%2Fx%2Bjson`],
  ])('%s %s', (method, rawUrl) => {
    const first = parsed(method, rawUrl);
    expect(parsed(method, first.upstreamUrl)).toEqual(first);
  });
});

describe('no target, however built, sends an ambiguous /v2 path upstream', () => {
  // A seeded generator, so a failure names a reproducible target.
  const pieces = ['/', '/v2', 'V2', 'app', 'App', 'manifests/', 'blobs/', 'uploads/', 'tags/', 'list', '_zot/', 'ext/', 'mgmt',
    'metrics', './', '../', '.', '..', '%2e', '%2E', '%2F', '%2f', '%25', '%5C', '%76', '\\', ';', '?', '&', '=', 'tag=',
    'mount=', D, 'latest', ':', '#', 'sha256:', 'zz'];
  let seed = 0x2f6b;
  // MINSTD: every product stays below 2^53.
  const next = (): number => {
    seed = (seed * 48_271) % 2_147_483_647;
    return seed;
  };
  const targets = Array.from({ length: 5000 }, () => {
    const prefix = ['', '/v2/', '/v2/app/', '/'][next() % 4] ?? '';
    return prefix + Array.from({ length: 1 + (next() % 6) }, () => pieces[next() % pieces.length]).join('');
  });

  it('is refused, or forwarded in a form that cannot change meaning on the way', () => {
    const leaks: string[] = [];
    for (const target of targets) {
      const result = parseRequest('GET', target);
      if (!result.ok) continue;
      const { route, upstreamUrl } = result.request;
      const path = upstreamUrl.split('?')[0] ?? '';
      const decoded = decodeURIComponent(path.replaceAll(/%(?![0-9A-Fa-f]{2})/g, '%25')).toLowerCase();
      const ambiguous = /(^|\/)\.\.?(\/|$)|\/\/|\\/.test(decoded);
      const v2 = decoded === '/v2' || decoded.startsWith('/v2/') || decoded === '/metrics';
      if (ambiguous || (route.kind === 'ui' && (v2 || decoded.startsWith('/v2')))) leaks.push(target);
      if (route.kind !== 'ui' && path.includes('%')) leaks.push(target);
    }
    expect(leaks).toEqual([]);
  });

  it('generates enough targets of every outcome to mean something', () => {
    const kinds = new Set(targets.map((target) => {
      const result = parseRequest('GET', target);
      return result.ok ? result.request.route.kind : result.invalid.code;
    }));
    expect([...kinds].sort()).toEqual(
      expect.arrayContaining(['DIGEST_INVALID', 'MANIFEST_UNKNOWN', 'NAME_INVALID', 'UNSUPPORTED', 'base', 'manifest', 'ui', 'unknown']),
    );
  });
});

describe('targets forwarded as received must decode (the proxy decodes them)', () => {
  it.each([
    ['/index.html?q=%', 'UI query with a lone %'],
    ['/a%zzb', 'UI path with a malformed escape'],
    ['/assets/%ff.js', 'UI path with an invalid UTF-8 escape'],
    ['/v2/_zot/ext/mgmt?x=%ff', 'extension query with an invalid escape'],
  ])('%s (%s) → 400 undecodable-target', (target) => {
    expect(parseRequest('GET', target)).toEqual({
      ok: false,
      invalid: { code: 'UNSUPPORTED', message: 'the request target has a malformed percent-encoding', reason: 'undecodable-target' },
    });
  });
});
