/**
 * Regression: zot GHSA-qg67, deletes by a push-only identity.
 *
 * A CI identity granted `read` and `create` (push, nothing more) could
 * delete: the DELETE routes were not mapped to the `delete` action, so
 *
 *     DELETE /v2/ci/app/manifests/sha256:<digest>
 *     DELETE /v2/ci/app/blobs/sha256:<layer>
 *     DELETE /v2/ci/app/blobs/uploads/<session>
 *
 * passed with the rights of a push. The gate maps every DELETE — manifest by
 * tag or digest, blob, upload session (even one the identity opened) — to
 * `delete`, and refuses before anything reaches the registry.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ociError, send } from '../support/http.js';
import { OCI_MANIFEST } from '../support/registry-ops.js';
import { useStack } from '../support/stack.js';

const accessControl = {
  repositories: { 'ci/**': { policies: [{ groups: ['ci'], actions: ['read', 'create'] }] } },
};

const stack = useStack({
  hop: 'faults',
  accessControl,
  users: { pusher: ['ci'] },
  image: { seed: 'push-only', tag: '1', pushTo: ['ci/app:1'] },
});
/** An upload session the pusher itself opened through the gate. */
let session: string;

beforeAll(async () => {
  const opened = await send(stack.gate.url, { method: 'POST', path: '/v2/ci/app/blobs/uploads/', headers: { authorization: stack.auth.pusher } });
  expect(opened.status).toBe(202);
  session = opened.headers.location!;
});

describe('GHSA-qg67: a push-only identity deletes', () => {
  // last: how the registry shows the thing is still there (distribution answers an upload status GET with 204)
  it.each<[string, () => string, 'HEAD' | 'GET', number]>([
    ['a manifest by digest', () => `/v2/ci/app/manifests/${stack.image.manifestDigest}`, 'HEAD', 200],
    ['a manifest by tag', () => '/v2/ci/app/manifests/1', 'HEAD', 200],
    ['a layer blob', () => `/v2/ci/app/blobs/${stack.image.layerDigest}`, 'HEAD', 200],
    ['its own upload session', () => session, 'GET', 204],
  ])('DELETE %s → 403, never forwarded, still there', async (_name, path, method, status) => {
    stack.faults.clear();
    const response = await send(stack.gate.url, { method: 'DELETE', path: path(), headers: { authorization: stack.auth.pusher } });
    expect(response.status).toBe(403);
    expect(ociError(response)).toEqual({
      code: 'DENIED',
      message: 'user "pusher" may not delete in repository "ci/app"',
      detail: { reason: 'action-not-granted', action: 'delete', repository: 'ci/app', pattern: 'ci/**' },
    });
    expect(stack.faults.requests).toEqual([]);
    const check = await send(stack.registry.url, { method, path: path(), headers: { accept: OCI_MANIFEST } });
    expect(check.status).toBe(status);
  });
});
