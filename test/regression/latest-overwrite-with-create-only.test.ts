/**
 * Regression: zot CVE-2026-31801 (GHSA-85jx-fm8m-x8c6), "create-only policy
 * allows overwrite of the existing latest tag".
 *
 * zot's authz middleware inferred the action of `PUT /v2/{name}/manifests/{ref}`
 * as `create`, switching to `update` only when the tag existed AND
 * `ref != "latest"`. With `acme/app:latest` present, an identity holding
 * `create` but not `update` sent
 *
 *     PUT /v2/acme/app/manifests/latest   (a different manifest)
 *
 * and moved `latest`. The gate asks the registry what the tag holds at PUT
 * time, under a per-tag lock, with every manifest media type in `Accept`
 * (distribution answers 404 to an OCI manifest HEAD without one, which would
 * make the overwrite look like a create): any tag, `latest` included, that
 * holds another digest needs `update`.
 */
import { describe, expect, it } from 'vitest';
import { sha256 } from '../harness/images.js';
import { ociError, send } from '../support/http.js';
import { annotated, OCI_MANIFEST } from '../support/registry-ops.js';
import { useStack } from '../support/stack.js';

const accessControl = {
  repositories: {
    'acme/**': {
      policies: [
        { users: ['attacker'], actions: ['read', 'create'] },
        { users: ['maintainer'], actions: ['read', 'create', 'update'] },
      ],
    },
  },
};

const stack = useStack({
  hop: 'faults',
  accessControl,
  users: { attacker: [], maintainer: [] },
  image: { seed: 'latest-overwrite', tag: 'latest', pushTo: ['acme/app:latest', 'acme/app:stable'] },
});

/** The pushed manifest with one annotation more: same blobs, another digest. */
const tampered = () => annotated(stack.image.manifest, { 'org.example.tampered': 'yes' });

describe('CVE-2026-31801: a create-only identity overwrites latest', () => {
  it.each(['latest', 'stable'])('PUT a different manifest to existing %s → 403, never forwarded, tag unchanged', async (tag) => {
    stack.faults.clear();
    const response = await send(stack.gate.url, {
      method: 'PUT',
      path: `/v2/acme/app/manifests/${tag}`,
      headers: { authorization: stack.auth.attacker, 'content-type': OCI_MANIFEST },
      body: tampered(),
    });
    expect(response.status, response.body).toBe(403);
    expect(ociError(response)).toEqual({
      code: 'DENIED',
      message: `user "attacker" may not overwrite tag "${tag}" in repository "acme/app" (needs update)`,
      detail: { reason: 'action-not-granted', action: 'update', repository: 'acme/app', tag, pattern: 'acme/**' },
    });
    expect(stack.faults.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`HEAD /v2/acme/app/manifests/${tag}`]);
    expect(await stack.direct.digestOf('acme/app', tag)).toBe(stack.image.manifestDigest);
  });

  it('the refused body is a valid manifest: a holder of update moves latest with it', async () => {
    const response = await send(stack.gate.url, {
      method: 'PUT',
      path: '/v2/acme/app/manifests/latest',
      headers: { authorization: stack.auth.maintainer, 'content-type': OCI_MANIFEST },
      body: tampered(),
    });
    expect(response.status, response.body).toBe(201);
    expect(await stack.direct.digestOf('acme/app', 'latest')).toBe(sha256(tampered()));
  });
});
