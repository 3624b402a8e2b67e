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
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../harness/images.js';
import { ociError, send } from '../support/http.js';
import { annotated, OCI_INDEX, OCI_MANIFEST } from '../support/registry-ops.js';
import { useStack } from '../support/stack.js';

const REPOSITORY = 'multi/app';
const accessControl = {
  repositories: { 'multi/**': { policies: [{ users: ['janitor'], actions: ['read', 'delete'] }] } },
  adminPolicy: { users: ['root'], actions: ['read', 'create', 'update', 'delete'] },
};
const immutableTags = [{ repositories: ['multi/**'], tags: ['v*'] }];

const stack = useStack({ hop: 'faults', accessControl, extra: { immutableTags }, users: { janitor: [], root: [] }, image: { seed: 'immutable index' } });

/** C: v1's platform manifest. */
const platformC = () => stack.image.manifest;
/** E: `nightly`'s platform manifest, over the same blobs. */
const platformE = () => annotated(stack.image.manifest, { 'org.example.build': 'nightly' });
const digests = { C: () => sha256(platformC()), E: () => sha256(platformE()) };

/** An OCI image index listing one linux/amd64 manifest. */
function indexOf(manifest: string): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [{ mediaType: OCI_MANIFEST, digest: sha256(manifest), size: Buffer.byteLength(manifest), platform: { architecture: 'amd64', os: 'linux' } }],
  });
}

beforeAll(async () => {
  const { direct, image } = stack;
  for (const digest of [image.configDigest, image.layerDigest]) await direct.pushBlob(REPOSITORY, image.layoutDir, digest);
  // The platform manifests go in by digest, untagged: only the indexes name them.
  await direct.putManifest(REPOSITORY, digests.C(), platformC());
  await direct.putManifest(REPOSITORY, digests.E(), platformE());
  await direct.putManifest(REPOSITORY, 'v1', indexOf(platformC()), OCI_INDEX);
  await direct.putManifest(REPOSITORY, 'nightly', indexOf(platformE()), OCI_INDEX);
});

async function resolves(reference: string): Promise<boolean> {
  return (await stack.direct.digestOf(REPOSITORY, reference, `${OCI_INDEX}, ${OCI_MANIFEST}`)) !== null;
}

const refused = {
  code: 'DENIED',
  message: `tag "v1" in repository "${REPOSITORY}" is immutable (immutableTags[0]); only an admin may delete it`,
  detail: { reason: 'tag-immutable', action: 'delete', repository: REPOSITORY, tag: 'v1', rule: 'immutableTags[0]' },
};

describe("DELETE of a platform manifest an immutable tag's index lists", () => {
  // Rows run in order; the last two change the registry.
  it.each<[string, number, 'janitor' | 'root', 'C' | 'E', object | null, Record<string, boolean>]>([
    ["v1's platform manifest C, holding delete", 403, 'janitor', 'C', refused, { v1: true, C: true, nightly: true, E: true }],
    ["nightly's platform manifest E (a plain tag), holding delete", 202, 'janitor', 'E', null, { v1: true, C: true, nightly: true, E: false }],
    ["v1's platform manifest C, an admin", 202, 'root', 'C', null, { v1: true, C: false, nightly: true, E: false }],
  ])('%s → %d', async (_name, status, user, manifest, error, after) => {
    stack.faults.clear();
    const path = `/v2/${REPOSITORY}/manifests/${digests[manifest]()}`;
    const response = await send(stack.gate.url, { method: 'DELETE', path, headers: { authorization: stack.auth[user] } });
    expect(response.status, response.body).toBe(status);
    if (error !== null) expect(ociError(response)).toEqual(error);
    expect(stack.faults.requests.filter((r) => r.method === 'DELETE').map((r) => r.url)).toEqual(status === 202 ? [path] : []);
    for (const [name, present] of Object.entries(after)) {
      const reference = name === 'C' || name === 'E' ? digests[name]() : name;
      expect(await resolves(reference), name).toBe(present);
    }
  });

  it("the admin's delete under the immutable index is audited, once", () => {
    const audits = stack.gate.logs.filter((line) => line['audit'] === true && line['event'] === 'delete' && (line['detail'] as { immutableTag?: string } | null)?.immutableTag !== undefined);
    expect(audits).toEqual([
      expect.objectContaining({ identity: 'root', repository: REPOSITORY, reference: digests.C(), decision: 'allow', status: 202, detail: { immutableTag: 'v1', rule: 'immutableTags[0]' } }),
    ]);
  });
});
