/**
 * Regression: zot #4266, "require update for digest multi-tag overwrites".
 *
 * OCI dist-spec v1.1 lets a manifest PUT by digest name tags in the query.
 * zot treated only the path reference as a possible overwrite; a digest is
 * never one, so the PUT needed `create` alone. A create-only identity sent
 *
 *     PUT /v2/acme/app/manifests/sha256:<other>?tag=latest
 *
 * and moved the existing `latest`. The gate checks every `?tag=` as if it
 * were a tag PUT — create if new, update if it holds another digest, refused
 * if immutable — and the first refusal stops the whole request.
 *
 * The registry here (distribution 2.8) ignores `?tag=`, so "never forwarded"
 * is the observable: a refused PUT must not reach it at all.
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
        { users: ['mover'], actions: ['read', 'update'] },
        { users: ['maintainer'], actions: ['read', 'create', 'update'] },
      ],
    },
  },
};
const immutableTags = [{ repositories: ['acme/**'], tags: ['v*'] }];

let registry: Registry;
let faults: FaultInjector;
let gate: GateUnderTest;
let work: string;
let image: BuiltImage;
const auth: Record<string, string> = {};

const tampered = () => JSON.stringify({ ...(JSON.parse(image.manifest) as object), annotations: { 'org.example.tampered': 'yes' } });

beforeAll(async () => {
  registry = await startRegistry();
  faults = await startFaultInjector(registry.url);
  gate = await startGate({ upstream: faults.url, accessControl, extra: { immutableTags } });
  work = await makeTempDir('regression-digest-tag');
  image = await buildImage(join(work, 'img'), { seed: 'digest-put-tag-query', tag: 'latest' });
  for (const tag of ['latest', 'v1']) {
    const pushed = await pushLayout(image.layoutDir, 'latest', `${registry.host}/acme/app:${tag}`);
    expect(pushed.code, pushed.stderr).toBe(0);
  }
  for (const user of ['attacker', 'mover', 'maintainer']) {
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

const overwrite = (user: string, tag: string) => ({
  code: 'DENIED',
  message: `user "${user}" may not overwrite tag "${tag}" in repository "acme/app" (needs update)`,
  detail: { reason: 'action-not-granted', action: 'update', repository: 'acme/app', tag, pattern: 'acme/**' },
});

describe('zot #4266: PUT by digest with ?tag= naming an existing tag', () => {
  it.each<[string, number, string, string, object | null]>([
    ['create-only, ?tag=latest', 403, 'attacker', 'tag=latest', overwrite('attacker', 'latest')],
    ['create-only, ?tag=new&tag=latest', 403, 'attacker', 'tag=new&tag=latest', overwrite('attacker', 'latest')],
    ['create-only, ?tag=latest&tag=new', 403, 'attacker', 'tag=latest&tag=new', overwrite('attacker', 'latest')],
    ['update without create, ?tag=latest&tag=new', 403, 'mover', 'tag=latest&tag=new', {
      code: 'DENIED',
      message: 'user "mover" may not create in repository "acme/app"',
      detail: { reason: 'action-not-granted', action: 'create', repository: 'acme/app', tag: 'new', pattern: 'acme/**' },
    }],
    ['update, ?tag=v1 (immutable)', 403, 'maintainer', 'tag=v1', {
      code: 'DENIED',
      message: 'tag "v1" in repository "acme/app" is immutable (immutableTags[0]); it cannot be overwritten, push a new tag instead',
      detail: { reason: 'tag-immutable', action: 'update', repository: 'acme/app', tag: 'v1', rule: 'immutableTags[0]' },
    }],
    // The same request shapes pass when the policy allows them: the refusals above are not about the body.
    ['create-only, ?tag=new', 201, 'attacker', 'tag=new', null],
    ['update, ?tag=latest', 201, 'maintainer', 'tag=latest', null],
  ])('%s → %d', async (_name, status, user, query, error) => {
    faults.clear();
    const digest = sha256(tampered());
    const response = await send(gate.url, {
      method: 'PUT',
      path: `/v2/acme/app/manifests/${digest}?${query}`,
      headers: { authorization: auth[user]!, 'content-type': OCI_MANIFEST },
      body: tampered(),
    });
    expect(response.status, response.body).toBe(status);
    if (error !== null) expect(ociError(response)).toEqual(error);
    const puts = faults.requests.filter((r) => r.method === 'PUT').map((r) => r.url.split('?')[0]);
    expect(puts).toEqual(status === 201 ? [`/v2/acme/app/manifests/${digest}`] : []);
  });
});
