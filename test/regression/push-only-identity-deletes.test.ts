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
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultInjector, type FaultInjector } from '../harness/faulty.js';
import { buildImage, type BuiltImage } from '../harness/images.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { pushLayout } from '../harness/skopeo.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { basic, ociError, send } from '../support/http.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const accessControl = {
  repositories: { 'ci/**': { policies: [{ groups: ['ci'], actions: ['read', 'create'] }] } },
};

let registry: Registry;
let faults: FaultInjector;
let gate: GateUnderTest;
let work: string;
let image: BuiltImage;
let pusher: string;
/** An upload session the pusher itself opened through the gate. */
let session: string;

beforeAll(async () => {
  registry = await startRegistry();
  faults = await startFaultInjector(registry.url);
  gate = await startGate({ upstream: faults.url, accessControl });
  work = await makeTempDir('regression-push-only');
  image = await buildImage(join(work, 'img'), { seed: 'push-only', tag: '1' });
  const pushed = await pushLayout(image.layoutDir, '1', `${registry.host}/ci/app:1`);
  expect(pushed.code, pushed.stderr).toBe(0);
  const { key } = await gate.store.create({ owner: 'pusher', label: 'regression', expiresAt: null, scopes: [], groups: ['ci'] });
  pusher = basic('pusher', key);
  const opened = await send(gate.url, { method: 'POST', path: '/v2/ci/app/blobs/uploads/', headers: { authorization: pusher } });
  expect(opened.status).toBe(202);
  session = opened.headers.location!;
}, 60_000);

afterAll(async () => {
  await gate?.stop();
  await faults?.stop();
  await registry?.stop();
  if (work) await removeDir(work);
});

describe('GHSA-qg67: a push-only identity deletes', () => {
  // last: how the registry shows the thing is still there (distribution answers an upload status GET with 204)
  it.each<[string, () => string, 'HEAD' | 'GET', number]>([
    ['a manifest by digest', () => `/v2/ci/app/manifests/${image.manifestDigest}`, 'HEAD', 200],
    ['a manifest by tag', () => '/v2/ci/app/manifests/1', 'HEAD', 200],
    ['a layer blob', () => `/v2/ci/app/blobs/${image.layerDigest}`, 'HEAD', 200],
    ['its own upload session', () => session, 'GET', 204],
  ])('DELETE %s → 403, never forwarded, still there', async (_name, path, method, status) => {
    faults.clear();
    const response = await send(gate.url, { method: 'DELETE', path: path(), headers: { authorization: pusher } });
    expect(response.status).toBe(403);
    expect(ociError(response)).toEqual({
      code: 'DENIED',
      message: 'user "pusher" may not delete in repository "ci/app"',
      detail: { reason: 'action-not-granted', action: 'delete', repository: 'ci/app', pattern: 'ci/**' },
    });
    expect(faults.requests).toEqual([]);
    const check = await send(registry.url, { method, path: path(), headers: { accept: OCI_MANIFEST } });
    expect(check.status).toBe(status);
  });
});
