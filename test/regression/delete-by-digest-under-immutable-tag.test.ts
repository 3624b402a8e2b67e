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
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../harness/images.js';
import { ociError, send } from '../support/http.js';
import { annotated, OCI_MANIFEST } from '../support/registry-ops.js';
import { useStack } from '../support/stack.js';

const accessControl = {
  repositories: { 'rel/**': { policies: [{ users: ['janitor'], actions: ['read', 'delete'] }] } },
  adminPolicy: { users: ['root'], actions: ['read', 'create', 'update', 'delete'] },
};
const immutableTags = [{ repositories: ['rel/**'], tags: ['v*'] }];

const stack = useStack({
  hop: 'faults',
  accessControl,
  extra: { immutableTags },
  users: { janitor: [], root: [] },
  // v1.0 and latest share one manifest: the digest DELETE would remove both.
  image: { seed: 'immutable delete', tag: 'v1.0', pushTo: ['rel/app:v1.0', 'rel/app:latest'] },
});

/** `dev` holds another manifest over the same blobs. */
const dev = () => annotated(stack.image.manifest, { 'org.example.branch': 'dev' });

beforeAll(async () => {
  await stack.direct.putManifest('rel/app', 'dev', dev());
});

async function exists(tag: string): Promise<boolean> {
  return (await stack.direct.digestOf('rel/app', tag)) !== null;
}

const refused = {
  code: 'DENIED',
  message: 'tag "v1.0" in repository "rel/app" is immutable (immutableTags[0]); only an admin may delete it',
  detail: { reason: 'tag-immutable', action: 'delete', repository: 'rel/app', tag: 'v1.0', rule: 'immutableTags[0]' },
};

describe('PROJQUAY-10504: DELETE of the digest an immutable tag points at', () => {
  // Rows run in order; the last two change the registry.
  it.each<[string, number, 'janitor' | 'root', () => string, object | null, Record<string, boolean>]>([
    ['by digest, holding delete', 403, 'janitor', () => stack.image.manifestDigest, refused, { 'v1.0': true, latest: true, dev: true }],
    ['by tag, holding delete', 403, 'janitor', () => 'v1.0', refused, { 'v1.0': true, latest: true, dev: true }],
    ['a digest no immutable tag points at, holding delete', 202, 'janitor', () => sha256(dev()), null, { 'v1.0': true, latest: true, dev: false }],
    ['by digest, an admin', 202, 'root', () => stack.image.manifestDigest, null, { 'v1.0': false, latest: false, dev: false }],
  ])('%s → %d', async (_name, status, user, reference, error, after) => {
    stack.faults.clear();
    const path = `/v2/rel/app/manifests/${reference()}`;
    const response = await send(stack.gate.url, { method: 'DELETE', path, headers: { authorization: stack.auth[user] } });
    expect(response.status, response.body).toBe(status);
    if (error !== null) expect(ociError(response)).toEqual(error);
    expect(stack.faults.requests.filter((r) => r.method === 'DELETE').map((r) => r.url)).toEqual(status === 202 ? [path] : []);
    for (const [tag, present] of Object.entries(after)) expect(await exists(tag), tag).toBe(present);
  });

  it("the admin's delete of an immutable tag is audited, once", () => {
    const audits = stack.gate.logs.filter((line) => line['audit'] === true && line['event'] === 'delete' && (line['detail'] as { immutableTag?: string } | null)?.immutableTag !== undefined);
    expect(audits).toEqual([
      expect.objectContaining({ identity: 'root', repository: 'rel/app', reference: stack.image.manifestDigest, decision: 'allow', status: 202, detail: { immutableTag: 'v1.0', rule: 'immutableTags[0]' } }),
    ]);
  });
});
