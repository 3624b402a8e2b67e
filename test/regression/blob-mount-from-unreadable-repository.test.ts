/**
 * Regression: zot CVE-2024-39897 (GHSA-55r9-5mx9-qq7r), "cache driver
 * GetBlob() allows read access to private blobs".
 *
 * With dedupe on, zot found blobs by digest in a global cache. An identity
 * that could read `mine/app` but not `private/src`, knowing the digest of a
 * private layer, sent
 *
 *     POST /v2/mine/app/blobs/uploads/?mount=sha256:<private>&from=private/src
 *
 * (no read check on `from`: 201, the blob linked into its repository), or
 * simply `HEAD /v2/mine/app/blobs/sha256:<private>`, which copied the blob in
 * from the cache; a GET then read it.
 *
 * The gate needs `read` on `from` for a mount, drops a mount without `from`
 * (a plain upload starts), and forwards a blob HEAD only for the repository
 * named, so the registry answers for that repository alone: 404.
 */
import { describe, expect, it } from 'vitest';
import { ociError, send } from '../support/http.js';
import { useStack } from '../support/stack.js';

const accessControl = {
  repositories: {
    'mine/**': { policies: [{ users: ['attacker', 'insider'], actions: ['read', 'create'] }] },
    'private/**': { policies: [{ users: ['insider'], actions: ['read'] }] },
  },
};

const stack = useStack({
  hop: 'faults',
  accessControl,
  users: { attacker: [], insider: [] },
  images: { secret: { seed: 'private layer', tag: '1', pushTo: ['private/src:1'] } },
});
const digests = () => ({ layer: stack.images.secret.layerDigest, config: stack.images.secret.configDigest });

describe('CVE-2024-39897: reading a private blob through a readable repository', () => {
  it.each(['layer', 'config'] as const)('mount of the private %s from private/src → 403, never forwarded', async (blob) => {
    stack.faults.clear();
    const response = await send(stack.gate.url, {
      method: 'POST',
      path: `/v2/mine/app/blobs/uploads/?mount=${digests()[blob]}&from=private/src`,
      headers: { authorization: stack.auth.attacker },
    });
    expect(response.status).toBe(403);
    expect(ociError(response)).toEqual({
      code: 'DENIED',
      message: 'user "attacker" may not read in repository "private/src"',
      detail: { reason: 'action-not-granted', action: 'read', repository: 'private/src', pattern: 'private/**' },
    });
    expect(stack.faults.requests).toEqual([]);
  });

  it.each([
    ['without from: the mount is dropped, a plain upload starts', (d: string) => `?mount=${d}`, '/v2/mine/app/blobs/uploads/'],
    ['from a readable repository that lacks the blob: the registry starts an upload', (d: string) => `?mount=${d}&from=mine/app`, null],
  ])('mount %s → 202, not 201', async (_name, query, forwardedAs) => {
    stack.faults.clear();
    const response = await send(stack.gate.url, {
      method: 'POST',
      path: `/v2/mine/app/blobs/uploads/${query(stack.images.secret.layerDigest)}`,
      headers: { authorization: stack.auth.attacker },
    });
    expect(response.status).toBe(202);
    expect(stack.faults.requests).toHaveLength(1);
    if (forwardedAs !== null) expect(stack.faults.requests[0]!.url).toBe(forwardedAs);
  });

  it.each(['HEAD', 'GET'])('%s of the private layer through mine/app → 404 from the registry', async (method) => {
    stack.faults.clear();
    const response = await send(stack.gate.url, { method, path: `/v2/mine/app/blobs/${stack.images.secret.layerDigest}`, headers: { authorization: stack.auth.attacker } });
    expect(response.status).toBe(404);
    expect(stack.faults.requests.map((r) => [r.method, r.url, r.faulted])).toEqual([[method, `/v2/mine/app/blobs/${stack.images.secret.layerDigest}`, false]]);
  });

  it('HEAD of the private layer in private/src itself → 403, never forwarded', async () => {
    stack.faults.clear();
    const response = await send(stack.gate.url, { method: 'HEAD', path: `/v2/private/src/blobs/${stack.images.secret.layerDigest}`, headers: { authorization: stack.auth.attacker } });
    expect(response.status).toBe(403);
    expect(stack.faults.requests).toEqual([]);
  });

  it('the same mount by an identity that may read private/src → 201 (the refusal above is the policy, not the request)', async () => {
    const response = await send(stack.gate.url, {
      method: 'POST',
      path: `/v2/mine/insider/blobs/uploads/?mount=${stack.images.secret.layerDigest}&from=private/src`,
      headers: { authorization: stack.auth.insider },
    });
    expect(response.status).toBe(201);
  });
});
