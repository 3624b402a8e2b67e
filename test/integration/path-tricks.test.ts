/**
 * Path tricks: each is refused with 400 and an OCI error body, and the
 * upstream never sees it. zot's Go router decodes and cleans paths, so a
 * forwarded `%2F` or `..` could address another repository than the one the
 * gate authorised.
 */
import { describe, expect, it } from 'vitest';
import { ociError, send } from '../support/http.js';
import { useStack } from '../support/stack.js';

const stack = useStack({ hop: 'recorder', accessControl: { repositories: { '**': { anonymousPolicy: ['read'] } } } });

describe('each path trick gets 400 and never reaches the upstream', () => {
  it.each([
    ['dot-dot segment', '/v2/a/../secret/manifests/latest'],
    ['dot segment', '/v2/a/./b/manifests/latest'],
    ['encoded slash', '/v2/a%2Fb/manifests/latest'],
    ['encoded dot-dot', '/v2/a/%2e%2e/secret/manifests/latest'],
    ['encoded backslash', '/v2/a%5Cb/manifests/latest'],
    ['empty segment', '/v2/a//b/manifests/latest'],
    ['path parameter', '/v2/a;x=y/manifests/latest'],
    ['upper-case name', '/v2/Library/base/manifests/latest'],
    ['upper-case digest', '/v2/a/blobs/sha256:ABCDEF0000000000000000000000000000000000000000000000000000000000'],
    ['short digest', '/v2/a/blobs/sha256:abc'],
    ['unknown digest algorithm', '/v2/a/blobs/md5:0123456789abcdef0123456789abcdef'],
    // a manifest read of a bad reference is a 404 (regression/invalid-manifest-reference-read)
    ['tag too long', `/v2/a/tags/list?last=${'t'.repeat(129)}`],
    ['encoded /v2 outside /v2', '/%762/a/manifests/latest'],
    ['upper-case /V2', '/V2/a/manifests/latest'],
    ['traversal from a UI path', '/foo/..%2F..%2Fv2/a/manifests/latest'],
    ['encoded metrics', '/%6detrics'],
  ])('%s: %s', async (_name, path) => {
    stack.recorder.clear();
    const response = await send(stack.gate.url, { path });
    expect(response.status).toBe(400);
    expect(['NAME_INVALID', 'TAG_INVALID', 'DIGEST_INVALID', 'UNSUPPORTED']).toContain(ociError(response).code);
    expect(ociError(response).detail.reason).toMatch(/^[a-z]+(-[a-z]+)*$/);
    expect(stack.recorder.requests).toEqual([]);
  });

  it.each([
    ['/v2/a%2Fb/manifests/latest', 'UNSUPPORTED'],
    ['/v2/Library/base/manifests/latest', 'NAME_INVALID'],
    ['/v2/a/tags/list?last=-bad', 'TAG_INVALID'],
    ['/v2/a/blobs/sha256:abc', 'DIGEST_INVALID'],
  ])('%s → %s', async (path, code) => {
    expect(ociError(await send(stack.gate.url, { path })).code).toBe(code);
  });

  it('tags are case-sensitive: LATEST is another tag than latest', async () => {
    stack.recorder.clear();
    const response = await send(stack.gate.url, { path: '/v2/a/manifests/LATEST' });
    expect(response.status).toBe(404);
    expect(stack.recorder.requests.map((r) => r.url)).toEqual(['/v2/a/manifests/LATEST']);
  });
});
