/**
 * Regression: an immutable multi-platform tag broken through one of its
 * platform manifests.
 *
 * The digest DELETE guard compared the digest with what each immutable tag
 * points at. When the tag `v1` (rule: `v*` is immutable) holds an OCI image
 * index, it points at the index, not at the platform manifests the index
 * lists. An identity holding `delete` but no admin sent
 *
 *     DELETE /v2/multi/app/manifests/<digest of v1's linux/amd64 manifest>
 *
 * and the registry removed it: `v1` still resolved, to an index whose only
 * platform no longer pulls — an immutable release broken without an admin.
 *
 * The gate reads each immutable tag's manifest and treats every manifest an
 * index lists as frozen with the tag: deleting one needs an admin holding
 * `delete`, and an admin's such delete goes to the audit log. A manifest
 * listed only by an index under a plain tag stays deletable.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultInjector, type FaultInjector } from '../harness/faulty.js';
import { blobPath, buildImage, sha256, type BuiltImage } from '../harness/images.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { basic, ociError, send } from '../support/http.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const REPOSITORY = 'multi/app';
const accessControl = {
  repositories: { 'multi/**': { policies: [{ users: ['janitor'], actions: ['read', 'delete'] }] } },
  adminPolicy: { users: ['root'], actions: ['read', 'create', 'update', 'delete'] },
};
const immutableTags = [{ repositories: ['multi/**'], tags: ['v*'] }];

let registry: Registry;
let faults: FaultInjector;
let gate: GateUnderTest;
let work: string;
let image: BuiltImage;
const auth: Record<string, string> = {};

/** C: v1's platform manifest. */
const platformC = () => image.manifest;
/** E: `nightly`'s platform manifest, over the same blobs. */
const platformE = () => JSON.stringify({ ...(JSON.parse(image.manifest) as object), annotations: { 'org.example.build': 'nightly' } });
const digests = { C: () => sha256(platformC()), E: () => sha256(platformE()) };

/** An OCI image index listing one linux/amd64 manifest. */
function indexOf(manifest: string): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [{ mediaType: OCI_MANIFEST, digest: sha256(manifest), size: Buffer.byteLength(manifest), platform: { architecture: 'amd64', os: 'linux' } }],
  });
}

/** Uploads one blob of the layout straight to the registry: POST, then a monolithic PUT. */
async function pushBlob(digest: string): Promise<void> {
  const started = await send(registry.url, { method: 'POST', path: `/v2/${REPOSITORY}/blobs/uploads/` });
  expect(started.status, started.body).toBe(202);
  const location = new URL(started.headers.location as string, registry.url);
  location.searchParams.set('digest', digest);
  const body = await readFile(blobPath(image.layoutDir, digest));
  const done = await send(registry.url, { method: 'PUT', path: `${location.pathname}${location.search}`, headers: { 'content-type': 'application/octet-stream' }, body });
  expect(done.status, done.body).toBe(201);
}

/** PUTs a manifest straight to the registry, around the gate. */
async function putDirect(reference: string, mediaType: string, body: string): Promise<void> {
  const response = await send(registry.url, { method: 'PUT', path: `/v2/${REPOSITORY}/manifests/${reference}`, headers: { 'content-type': mediaType }, body });
  expect(response.status, response.body).toBe(201);
}

beforeAll(async () => {
  registry = await startRegistry();
  faults = await startFaultInjector(registry.url);
  gate = await startGate({ upstream: faults.url, accessControl, extra: { immutableTags } });
  work = await makeTempDir('regression-index');
  image = await buildImage(join(work, 'img'), { seed: 'immutable index' });
  for (const digest of [image.configDigest, image.layerDigest]) await pushBlob(digest);
  // The platform manifests go in by digest, untagged: only the indexes name them.
  await putDirect(digests.C(), OCI_MANIFEST, platformC());
  await putDirect(digests.E(), OCI_MANIFEST, platformE());
  await putDirect('v1', OCI_INDEX, indexOf(platformC()));
  await putDirect('nightly', OCI_INDEX, indexOf(platformE()));
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

async function resolves(reference: string): Promise<boolean> {
  const response = await send(registry.url, { method: 'HEAD', path: `/v2/${REPOSITORY}/manifests/${reference}`, headers: { accept: `${OCI_INDEX}, ${OCI_MANIFEST}` } });
  return response.status === 200;
}

const refused = {
  code: 'DENIED',
  message: `tag "v1" in repository "${REPOSITORY}" is immutable (immutableTags[0]); only an admin may delete it`,
  detail: { reason: 'tag-immutable', action: 'delete', repository: REPOSITORY, tag: 'v1', rule: 'immutableTags[0]' },
};

describe("DELETE of a platform manifest an immutable tag's index lists", () => {
  // Rows run in order; the last two change the registry.
  it.each<[string, number, string, 'C' | 'E', object | null, Record<string, boolean>]>([
    ["v1's platform manifest C, holding delete", 403, 'janitor', 'C', refused, { v1: true, C: true, nightly: true, E: true }],
    ["nightly's platform manifest E (a plain tag), holding delete", 202, 'janitor', 'E', null, { v1: true, C: true, nightly: true, E: false }],
    ["v1's platform manifest C, an admin", 202, 'root', 'C', null, { v1: true, C: false, nightly: true, E: false }],
  ])('%s → %d', async (_name, status, user, manifest, error, after) => {
    faults.clear();
    const path = `/v2/${REPOSITORY}/manifests/${digests[manifest]()}`;
    const response = await send(gate.url, { method: 'DELETE', path, headers: { authorization: auth[user]! } });
    expect(response.status, response.body).toBe(status);
    if (error !== null) expect(ociError(response)).toEqual(error);
    expect(faults.requests.filter((r) => r.method === 'DELETE').map((r) => r.url)).toEqual(status === 202 ? [path] : []);
    for (const [name, present] of Object.entries(after)) {
      const reference = name === 'C' || name === 'E' ? digests[name]() : name;
      expect(await resolves(reference), name).toBe(present);
    }
  });

  it("the admin's delete under the immutable index is audited, once", () => {
    const audits = gate.logs.filter((line) => line['audit'] === 'immutable-delete');
    expect(audits).toEqual([expect.objectContaining({ level: 'warn', audit: 'immutable-delete', repository: REPOSITORY, tag: 'v1', user: 'root' })]);
  });
});
