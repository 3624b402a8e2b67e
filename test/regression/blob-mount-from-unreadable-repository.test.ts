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
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultInjector, type FaultInjector } from '../harness/faulty.js';
import { buildImage, type BuiltImage } from '../harness/images.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { pushLayout } from '../harness/skopeo.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { basic, ociError, send } from '../support/http.js';

const accessControl = {
  repositories: {
    'mine/**': { policies: [{ users: ['attacker', 'insider'], actions: ['read', 'create'] }] },
    'private/**': { policies: [{ users: ['insider'], actions: ['read'] }] },
  },
};

let registry: Registry;
let faults: FaultInjector;
let gate: GateUnderTest;
let work: string;
let secret: BuiltImage;
const auth: Record<string, string> = {};

beforeAll(async () => {
  registry = await startRegistry();
  faults = await startFaultInjector(registry.url);
  gate = await startGate({ upstream: faults.url, accessControl });
  work = await makeTempDir('regression-mount');
  secret = await buildImage(join(work, 'secret'), { seed: 'private layer', tag: '1' });
  const pushed = await pushLayout(secret.layoutDir, '1', `${registry.host}/private/src:1`);
  expect(pushed.code, pushed.stderr).toBe(0);
  for (const user of ['attacker', 'insider']) {
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

const digests = () => ({ layer: secret.layerDigest, config: secret.configDigest });

describe('CVE-2024-39897: reading a private blob through a readable repository', () => {
  it.each(['layer', 'config'] as const)('mount of the private %s from private/src → 403, never forwarded', async (blob) => {
    faults.clear();
    const response = await send(gate.url, {
      method: 'POST',
      path: `/v2/mine/app/blobs/uploads/?mount=${digests()[blob]}&from=private/src`,
      headers: { authorization: auth['attacker']! },
    });
    expect(response.status).toBe(403);
    expect(ociError(response)).toEqual({
      code: 'DENIED',
      message: 'user "attacker" may not read in repository "private/src"',
      detail: { reason: 'action-not-granted', action: 'read', repository: 'private/src', pattern: 'private/**' },
    });
    expect(faults.requests).toEqual([]);
  });

  it.each([
    ['without from: the mount is dropped, a plain upload starts', (d: string) => `?mount=${d}`, '/v2/mine/app/blobs/uploads/'],
    ['from a readable repository that lacks the blob: the registry starts an upload', (d: string) => `?mount=${d}&from=mine/app`, null],
  ])('mount %s → 202, not 201', async (_name, query, forwardedAs) => {
    faults.clear();
    const response = await send(gate.url, {
      method: 'POST',
      path: `/v2/mine/app/blobs/uploads/${query(secret.layerDigest)}`,
      headers: { authorization: auth['attacker']! },
    });
    expect(response.status).toBe(202);
    expect(faults.requests).toHaveLength(1);
    if (forwardedAs !== null) expect(faults.requests[0]!.url).toBe(forwardedAs);
  });

  it.each(['HEAD', 'GET'])('%s of the private layer through mine/app → 404 from the registry', async (method) => {
    faults.clear();
    const response = await send(gate.url, { method, path: `/v2/mine/app/blobs/${secret.layerDigest}`, headers: { authorization: auth['attacker']! } });
    expect(response.status).toBe(404);
    expect(faults.requests.map((r) => [r.method, r.url, r.faulted])).toEqual([[method, `/v2/mine/app/blobs/${secret.layerDigest}`, false]]);
  });

  it('HEAD of the private layer in private/src itself → 403, never forwarded', async () => {
    faults.clear();
    const response = await send(gate.url, { method: 'HEAD', path: `/v2/private/src/blobs/${secret.layerDigest}`, headers: { authorization: auth['attacker']! } });
    expect(response.status).toBe(403);
    expect(faults.requests).toEqual([]);
  });

  it('the same mount by an identity that may read private/src → 201 (the refusal above is the policy, not the request)', async () => {
    const response = await send(gate.url, {
      method: 'POST',
      path: `/v2/mine/insider/blobs/uploads/?mount=${secret.layerDigest}&from=private/src`,
      headers: { authorization: auth['insider']! },
    });
    expect(response.status).toBe(201);
  });
});
