/**
 * Regression: Quay PROJQUAY-10504, an immutable tag removed through its digest.
 *
 * Immutability was checked on the tag: deleting `v1.0` by name was refused,
 * but deleting the manifest it points at was not. An identity holding
 * `delete` sent
 *
 *     DELETE /v2/rel/app/manifests/sha256:<digest of v1.0>
 *
 * and the registry removed the manifest and, with it, every tag pointing at
 * it — the "immutable" tag included.
 *
 * The gate lists the repository's tags, asks what each immutable one points
 * at, and refuses a digest DELETE that would take one along, unless the
 * identity is an admin holding `delete`; an admin's such delete goes to the
 * audit log.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultInjector, type FaultInjector } from '../harness/faulty.js';
import { buildImage, sha256, type BuiltImage } from '../harness/images.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { pushLayout } from '../harness/skopeo.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { basic, ociError, send } from '../support/http.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const accessControl = {
  repositories: { 'rel/**': { policies: [{ users: ['janitor'], actions: ['read', 'delete'] }] } },
  adminPolicy: { users: ['root'], actions: ['read', 'create', 'update', 'delete'] },
};
const immutableTags = [{ repositories: ['rel/**'], tags: ['v*'] }];

let registry: Registry;
let faults: FaultInjector;
let gate: GateUnderTest;
let work: string;
let image: BuiltImage;
const auth: Record<string, string> = {};

/** `dev` holds another manifest over the same blobs. */
const dev = () => JSON.stringify({ ...(JSON.parse(image.manifest) as object), annotations: { 'org.example.branch': 'dev' } });

beforeAll(async () => {
  registry = await startRegistry();
  faults = await startFaultInjector(registry.url);
  gate = await startGate({ upstream: faults.url, accessControl, extra: { immutableTags } });
  work = await makeTempDir('regression-delete');
  image = await buildImage(join(work, 'img'), { seed: 'immutable delete', tag: 'v1.0' });
  // v1.0 and latest share one manifest: the digest DELETE would remove both.
  for (const tag of ['v1.0', 'latest']) {
    const pushed = await pushLayout(image.layoutDir, 'v1.0', `${registry.host}/rel/app:${tag}`);
    expect(pushed.code, pushed.stderr).toBe(0);
  }
  const put = await send(registry.url, { method: 'PUT', path: '/v2/rel/app/manifests/dev', headers: { 'content-type': OCI_MANIFEST }, body: dev() });
  expect(put.status).toBe(201);
  for (const user of ['janitor', 'root']) {
    const { key } = await gate.store.create({ owner: user, label: 'regression', expiresAt: null, scopes: [], groups: [] });
    auth[user] = basic(user, key);
  }
}, 60_000);

afterAll(async () => {
  await gate?.stop();
  await faults?.stop();
  await registry?.stop();
  if (work) await removeDir(work);
});

async function exists(tag: string): Promise<boolean> {
  const response = await send(registry.url, { method: 'HEAD', path: `/v2/rel/app/manifests/${tag}`, headers: { accept: OCI_MANIFEST } });
  return response.status === 200;
}

const refused = {
  code: 'DENIED',
  message: 'tag "v1.0" in repository "rel/app" is immutable (immutableTags[0]); only an admin may delete it',
  detail: { reason: 'tag-immutable', action: 'delete', repository: 'rel/app', tag: 'v1.0', rule: 'immutableTags[0]' },
};

describe('PROJQUAY-10504: DELETE of the digest an immutable tag points at', () => {
  // Rows run in order; the last two change the registry.
  it.each<[string, number, string, () => string, object | null, Record<string, boolean>]>([
    ['by digest, holding delete', 403, 'janitor', () => image.manifestDigest, refused, { 'v1.0': true, latest: true, dev: true }],
    ['by tag, holding delete', 403, 'janitor', () => 'v1.0', refused, { 'v1.0': true, latest: true, dev: true }],
    ['a digest no immutable tag points at, holding delete', 202, 'janitor', () => sha256(dev()), null, { 'v1.0': true, latest: true, dev: false }],
    ['by digest, an admin', 202, 'root', () => image.manifestDigest, null, { 'v1.0': false, latest: false, dev: false }],
  ])('%s → %d', async (_name, status, user, reference, error, after) => {
    faults.clear();
    const path = `/v2/rel/app/manifests/${reference()}`;
    const response = await send(gate.url, { method: 'DELETE', path, headers: { authorization: auth[user]! } });
    expect(response.status, response.body).toBe(status);
    if (error !== null) expect(ociError(response)).toEqual(error);
    expect(faults.requests.filter((r) => r.method === 'DELETE').map((r) => r.url)).toEqual(status === 202 ? [path] : []);
    for (const [tag, present] of Object.entries(after)) expect(await exists(tag), tag).toBe(present);
  });

  it("the admin's delete of an immutable tag is audited, once", () => {
    const audits = gate.logs.filter((line) => line['audit'] === 'immutable-delete');
    expect(audits).toEqual([expect.objectContaining({ level: 'warn', audit: 'immutable-delete', repository: 'rel/app', tag: 'v1.0', user: 'root' })]);
  });
});
