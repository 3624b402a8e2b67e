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
  repositories: {
    'acme/**': {
      policies: [
        { users: ['attacker'], actions: ['read', 'create'] },
        { users: ['maintainer'], actions: ['read', 'create', 'update'] },
      ],
    },
  },
};

let registry: Registry;
let faults: FaultInjector;
let gate: GateUnderTest;
let work: string;
let image: BuiltImage;
const auth: Record<string, string> = {};

/** The pushed manifest with one annotation more: same blobs, another digest. */
const tampered = () => JSON.stringify({ ...(JSON.parse(image.manifest) as object), annotations: { 'org.example.tampered': 'yes' } });

beforeAll(async () => {
  registry = await startRegistry();
  faults = await startFaultInjector(registry.url);
  gate = await startGate({ upstream: faults.url, accessControl });
  work = await makeTempDir('regression-latest');
  image = await buildImage(join(work, 'img'), { seed: 'latest-overwrite', tag: 'latest' });
  for (const tag of ['latest', 'stable']) {
    const pushed = await pushLayout(image.layoutDir, 'latest', `${registry.host}/acme/app:${tag}`);
    expect(pushed.code, pushed.stderr).toBe(0);
  }
  for (const user of ['attacker', 'maintainer']) {
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

async function digestOf(tag: string): Promise<string | undefined> {
  const response = await send(registry.url, { method: 'HEAD', path: `/v2/acme/app/manifests/${tag}`, headers: { accept: OCI_MANIFEST } });
  return response.headers['docker-content-digest'] as string | undefined;
}

describe('CVE-2026-31801: a create-only identity overwrites latest', () => {
  it.each(['latest', 'stable'])('PUT a different manifest to existing %s → 403, never forwarded, tag unchanged', async (tag) => {
    faults.clear();
    const response = await send(gate.url, {
      method: 'PUT',
      path: `/v2/acme/app/manifests/${tag}`,
      headers: { authorization: auth['attacker']!, 'content-type': OCI_MANIFEST },
      body: tampered(),
    });
    expect(response.status, response.body).toBe(403);
    expect(ociError(response)).toEqual({
      code: 'DENIED',
      message: `user "attacker" may not overwrite tag "${tag}" in repository "acme/app" (needs update)`,
      detail: { reason: 'action-not-granted', action: 'update', repository: 'acme/app', tag, pattern: 'acme/**' },
    });
    expect(faults.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`HEAD /v2/acme/app/manifests/${tag}`]);
    expect(await digestOf(tag)).toBe(image.manifestDigest);
  });

  it('the refused body is a valid manifest: a holder of update moves latest with it', async () => {
    const response = await send(gate.url, {
      method: 'PUT',
      path: '/v2/acme/app/manifests/latest',
      headers: { authorization: auth['maintainer']!, 'content-type': OCI_MANIFEST },
      body: tampered(),
    });
    expect(response.status, response.body).toBe(201);
    expect(await digestOf('latest')).toBe(sha256(tampered()));
  });
});
