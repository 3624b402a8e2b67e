/**
 * Issue 3's acceptance: write safety against the real registry. Between the
 * gate and distribution sits a fault injector, which forwards everything and
 * records it, and answers only the faults a test arms.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildImage, sha256 } from '../harness/images.js';
import { pushLayout } from '../harness/skopeo.js';
import { ociError, send, type RawResponse } from '../support/http.js';
import { annotated, OCI_MANIFEST } from '../support/registry-ops.js';
import { useStack } from '../support/stack.js';

const MIB = 1024 * 1024;

const accessControl = {
  repositories: {
    '**': {
      policies: [
        { groups: ['creators'], actions: ['read', 'create'] },
        { groups: ['updaters'], actions: ['read', 'create', 'update'] },
        { groups: ['deleters'], actions: ['read', 'delete'] },
      ],
    },
    'hidden/**': { policies: [{ groups: ['insiders'], actions: ['read'] }] },
  },
  adminPolicy: { groups: ['admins'], actions: ['read', 'create', 'update', 'delete'] },
};
const immutableTags = [{ repositories: ['**'], tags: ['v*'] }];

type Who = 'creator' | 'updater' | 'deleter' | 'admin';
const GROUPS: Record<Who, string[]> = { creator: ['creators'], updater: ['updaters'], deleter: ['deleters'], admin: ['admins'] };

const stack = useStack({
  hop: 'faults',
  accessControl,
  extra: { immutableTags },
  users: GROUPS,
  image: { seed: 'write-safety', tag: 'seed', pushTo: ['ws/base:seed'] },
  images: { secret: { seed: 'write-safety secret', tag: 'seed', pushTo: ['hidden/src:seed'] } },
});

beforeAll(async () => {
  const { configDigest, layerDigest } = stack.image;
  for (const repository of ['ws/app', 'ws/race', 'ws/multi', 'ws/del']) await stack.direct.mountBlobs(repository, 'ws/base', [configDigest, layerDigest]);
});

/** Distinct manifests over the same blobs: the base manifest with one annotation more. */
function manifest(n: number): string {
  return annotated(stack.image.manifest, { 'org.example.variant': String(n) });
}

function put(who: Who, repository: string, reference: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<RawResponse> {
  return send(stack.gate.url, {
    method: 'PUT',
    path: `/v2/${repository}/manifests/${reference}`,
    headers: { authorization: stack.auth[who], 'content-type': OCI_MANIFEST, ...headers },
    body,
  });
}

function call(who: Who, method: string, path: string, body?: string): Promise<RawResponse> {
  return send(stack.gate.url, { method, path, headers: { authorization: stack.auth[who], 'content-type': 'application/octet-stream' }, ...(body === undefined ? {} : { body }) });
}

/** Paths (query dropped) of the `method` requests the registry side saw since the last `faults.clear()`. */
function seen(method: string): string[] {
  return stack.faults.requests.filter((r) => r.method === method).map((r) => r.url.split('?')[0]!);
}

const overwrite = (who: Who, tag: string, repository = 'ws/app') => ({
  code: 'DENIED',
  message: `user "${who}" may not overwrite tag "${tag}" in repository "${repository}" (needs update)`,
  detail: { reason: 'action-not-granted', action: 'update', repository, tag, pattern: '**' },
});
const frozen = (tag: string, repository = 'ws/app') => ({
  code: 'DENIED',
  message: `tag "${tag}" in repository "${repository}" is immutable (immutableTags[0]); it cannot be overwritten, push a new tag instead`,
  detail: { reason: 'tag-immutable', action: 'update', repository, tag, rule: 'immutableTags[0]' },
});

describe('tag PUTs: create a new tag, re-push the same, overwrite only with update, an immutable tag never', () => {
  // Steps run in order, each against the state the previous ones left.
  it.each<[string, Who, string, number, number, object | null, number]>([
    ['a create-only key pushes latest', 'creator', 'latest', 1, 201, null, 1],
    ['it cannot overwrite latest', 'creator', 'latest', 2, 403, overwrite('creator', 'latest'), 1],
    ['it may re-push the identical manifest', 'creator', 'latest', 1, 201, null, 1],
    ['an update holder overwrites latest', 'updater', 'latest', 2, 201, null, 2],
    ['a create-only key pushes v1', 'creator', 'v1', 1, 201, null, 1],
    ['it cannot overwrite v1, and is told the tag is immutable', 'creator', 'v1', 2, 403, frozen('v1'), 1],
    ['it may re-push v1 identical', 'creator', 'v1', 1, 201, null, 1],
    ['an update holder cannot overwrite v1', 'updater', 'v1', 2, 403, frozen('v1'), 1],
    ['an admin cannot overwrite v1', 'admin', 'v1', 2, 403, frozen('v1'), 1],
    ['an admin may re-push v1 identical', 'admin', 'v1', 1, 201, null, 1],
  ])('%s', async (_name, who, tag, n, status, error, after) => {
    stack.faults.clear();
    const response = await put(who, 'ws/app', tag, manifest(n));
    expect(response.status, response.body).toBe(status);
    if (error === null) expect(response.headers['docker-content-digest']).toBe(sha256(manifest(n)));
    else expect(ociError(response)).toEqual(error);
    // The existence check asked the registry; a refused PUT never reached it.
    expect(seen('HEAD')).toEqual([`/v2/ws/app/manifests/${tag}`]);
    expect(seen('PUT')).toEqual(status === 201 ? [`/v2/ws/app/manifests/${tag}`] : []);
    expect(await stack.direct.digestOf('ws/app', tag)).toBe(sha256(manifest(after)));
  });
});

describe('concurrent PUTs to one new tag', () => {
  it('20 different manifests at once: exactly one 201, the rest 403, and the tag holds the winner', async () => {
    stack.faults.clear();
    const bodies = Array.from({ length: 20 }, (_, i) => manifest(100 + i));
    const responses = await Promise.all(bodies.map((body) => put('creator', 'ws/race', 'race', body)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 403)).toHaveLength(19);
    const winner = statuses.indexOf(201);
    expect(responses[winner]!.headers['docker-content-digest']).toBe(sha256(bodies[winner]!));
    for (const response of responses.filter((r) => r.status === 403)) expect(ociError(response)).toEqual(overwrite('creator', 'race', 'ws/race'));
    expect(seen('PUT')).toEqual(['/v2/ws/race/manifests/race']);
    expect(await stack.direct.digestOf('ws/race', 'race')).toBe(sha256(bodies[winner]!));
  });
});

describe('digest PUT ?tag=…: each tag checked as a tag PUT', () => {
  beforeAll(async () => {
    await stack.direct.putManifest('ws/multi', 'latest', manifest(1));
    await stack.direct.putManifest('ws/multi', 'v1', manifest(1));
  });

  it.each<[string, Who, number, string[], number, object | null]>([
    ['two new tags, create only', 'creator', 3, ['a', 'b'], 201, null],
    ['a new and an existing tag, create only', 'creator', 3, ['c', 'latest'], 403, overwrite('creator', 'latest', 'ws/multi')],
    ['an existing and a new tag, create only', 'creator', 3, ['latest', 'c'], 403, overwrite('creator', 'latest', 'ws/multi')],
    ['an existing tag holding this very manifest, create only', 'creator', 1, ['latest'], 201, null],
    ['a new and an existing tag, update', 'updater', 3, ['d', 'latest'], 201, null],
    ['an immutable tag, update', 'updater', 3, ['e', 'v1'], 403, frozen('v1', 'ws/multi')],
    ['an immutable tag, admin', 'admin', 3, ['v1'], 403, frozen('v1', 'ws/multi')],
  ])('%s', async (_name, who, n, tags, status, error) => {
    stack.faults.clear();
    const digest = sha256(manifest(n));
    const response = await put(who, 'ws/multi', `${digest}?${tags.map((t) => `tag=${t}`).join('&')}`, manifest(n));
    expect(response.status, response.body).toBe(status);
    if (error !== null) expect(ociError(response)).toEqual(error);
    // Every tag was looked up (under its lock) before anything was decided.
    expect(seen('HEAD').sort()).toEqual(tags.map((t) => `/v2/ws/multi/manifests/${t}`).sort());
    expect(seen('PUT')).toEqual(status === 201 ? [`/v2/ws/multi/manifests/${digest}`] : []);
  });

  it('the registry still has latest and v1 where they were', async () => {
    expect(await stack.direct.digestOf('ws/multi', 'latest')).toBe(sha256(manifest(1)));
    expect(await stack.direct.digestOf('ws/multi', 'v1')).toBe(sha256(manifest(1)));
  });
});

describe('fail closed: when the registry cannot say what a tag holds, nothing is written', () => {
  const unknown = (tag: string, upstream: unknown) => ({
    code: 'UNAVAILABLE',
    message: `cannot tell whether tag "${tag}" exists in "ws/app"; nothing was written, retry later`,
    detail: { reason: 'tag-state-unknown', upstream },
  });

  it.each<[string, number | 'reset', boolean, unknown]>([
    ['HEAD answers 500', 500, false, 'upstream answered 500'],
    ['HEAD answers 401', 401, false, 'upstream answered 401'],
    ['HEAD answers 200 without a digest', 200, false, 'no digest'],
    ['the connection drops', 'reset', false, expect.any(String)],
    ['HEAD of a digest PUT\'s ?tag= answers 500', 500, true, 'upstream answered 500'],
  ])('%s → 503 UNAVAILABLE, and no PUT reaches the registry', async (_name, answer, byDigest, upstream) => {
    stack.faults.clear();
    stack.faults.inject({ method: 'HEAD', path: '/v2/ws/app/manifests/faulty', answer });
    try {
      const reference = byDigest ? `${sha256(manifest(7))}?tag=faulty` : 'faulty';
      const response = await put('updater', 'ws/app', reference, manifest(7));
      expect(response.status, response.body).toBe(503);
      expect(ociError(response)).toEqual(unknown('faulty', upstream));
      expect(stack.faults.requests.map((r) => [r.method, r.url, r.faulted])).toEqual([['HEAD', '/v2/ws/app/manifests/faulty', true]]);
    } finally {
      stack.faults.heal();
    }
    expect(await stack.direct.digestOf('ws/app', 'faulty')).toBeNull();
  });

  it('once the registry answers again, the same PUT goes through', async () => {
    const response = await put('updater', 'ws/app', 'faulty', manifest(7));
    expect(response.status, response.body).toBe(201);
    expect(await stack.direct.digestOf('ws/app', 'faulty')).toBe(sha256(manifest(7)));
  });

  it('a digest DELETE whose tag list cannot be read → 503, nothing deleted', async () => {
    stack.faults.clear();
    stack.faults.inject({ method: 'GET', path: '/v2/ws/app/tags/list', answer: 500 });
    try {
      const digest = sha256(manifest(7));
      const response = await call('admin', 'DELETE', `/v2/ws/app/manifests/${digest}`);
      expect(response.status).toBe(503);
      expect(ociError(response)).toEqual({
        code: 'UNAVAILABLE',
        message: `cannot tell which tags point at ${digest} in "ws/app"; nothing was written, retry later`,
        detail: { reason: 'tag-state-unknown', upstream: 'tag list failed' },
      });
      expect(seen('DELETE')).toEqual([]);
    } finally {
      stack.faults.heal();
    }
    expect(await stack.direct.digestOf('ws/app', 'faulty')).toBe(sha256(manifest(7)));
  });
});

describe('manifest bodies are capped at 4 MiB', () => {
  const tooLarge = {
    code: 'MANIFEST_INVALID',
    message: `manifest larger than ${4 * MIB} bytes`,
    detail: { reason: 'manifest-too-large' },
  };
  /** A valid manifest padded with JSON whitespace to exactly `size` bytes. */
  const padded = (size: number) => {
    const body = manifest(8);
    return Buffer.concat([Buffer.from(body), Buffer.alloc(size - Buffer.byteLength(body), ' ')]);
  };

  it.each([
    ['with a Content-Length', {}],
    ['chunked, no Content-Length', { 'transfer-encoding': 'chunked' }],
  ])('4 MiB + 1 byte, %s → 413, nothing forwarded', async (_name, headers) => {
    stack.faults.clear();
    const response = await put('admin', 'ws/app', 'big', padded(4 * MIB + 1), headers);
    expect(response.status).toBe(413);
    expect(ociError(response)).toEqual(tooLarge);
    expect(stack.faults.requests).toEqual([]);
    expect(await stack.direct.digestOf('ws/app', 'big')).toBeNull();
  });

  it('exactly 4 MiB is accepted', async () => {
    const body = padded(4 * MIB);
    const response = await put('creator', 'ws/app', 'big', body);
    expect(response.status, response.body).toBe(201);
    expect(await stack.direct.digestOf('ws/app', 'big')).toBe(sha256(body));
  });
});

describe('blob mounts and upload sessions', () => {
  it('a mount without read on from is refused, never a 201', async () => {
    stack.faults.clear();
    const response = await call('creator', 'POST', `/v2/ws/app/blobs/uploads/?mount=${stack.images.secret.layerDigest}&from=hidden/src`);
    expect(response.status).toBe(403);
    expect(ociError(response)).toEqual({
      code: 'DENIED',
      message: 'user "creator" may not read in repository "hidden/src"',
      detail: { reason: 'action-not-granted', action: 'read', repository: 'hidden/src', pattern: 'hidden/**' },
    });
    expect(stack.faults.requests).toEqual([]);
  });

  it.each([
    ['PATCH', 'some bytes'],
    ['PUT', undefined],
    ['GET', undefined],
  ] as const)('an upload URL used by another identity: %s → 404 BLOB_UPLOAD_UNKNOWN', async (method, body) => {
    const opened = await call('creator', 'POST', '/v2/ws/app/blobs/uploads/');
    expect(opened.status).toBe(202);
    const location = opened.headers.location!;
    const session = location.split('?')[0]!.split('/').pop()!;
    stack.faults.clear();
    const path = method === 'PUT' ? `${location}&digest=${sha256('')}` : location;
    const response = await call('updater', method, path, body);
    expect(response.status).toBe(404);
    expect(ociError(response)).toEqual({
      code: 'BLOB_UPLOAD_UNKNOWN',
      message: `upload ${session} is not known in repository "ws/app"`,
      detail: { reason: 'upload-not-owned' },
    });
    expect(stack.faults.requests).toEqual([]);
    // The owner's session is untouched.
    expect((await call('creator', 'PATCH', location, 'some bytes')).status).toBe(202);
  });
});

describe('DELETE of a manifest an immutable tag points at', () => {
  beforeAll(async () => {
    await stack.direct.putManifest('ws/del', 'v1', manifest(1));
    await stack.direct.putManifest('ws/del', 'latest', manifest(2));
  });

  const refused = {
    code: 'DENIED',
    message: 'tag "v1" in repository "ws/del" is immutable (immutableTags[0]); only an admin may delete it',
    detail: { reason: 'tag-immutable', action: 'delete', repository: 'ws/del', tag: 'v1', rule: 'immutableTags[0]' },
  };
  const noDelete = {
    code: 'DENIED',
    message: 'user "updater" may not delete in repository "ws/del"',
    detail: { reason: 'action-not-granted', action: 'delete', repository: 'ws/del', pattern: '**' },
  };

  // reference: a manifest number (by digest) or a tag; after: the manifest number v1 and latest then hold
  it.each<[string, Who, number | string, number, object | null, number | null, number | null]>([
    ['by digest, a non-admin holding delete', 'deleter', 1, 403, refused, 1, 2],
    ['by tag, a non-admin holding delete', 'deleter', 'v1', 403, refused, 1, 2],
    ['by digest, an update holder without delete', 'updater', 1, 403, noDelete, 1, 2],
    ['a digest no immutable tag points at, a non-admin holding delete', 'deleter', 2, 202, null, 1, null],
    ['by digest, an admin', 'admin', 1, 202, null, null, null],
  ])('%s', async (_name, who, ref, status, error, v1After, latestAfter) => {
    stack.faults.clear();
    const reference = typeof ref === 'number' ? sha256(manifest(ref)) : ref;
    const response = await call(who, 'DELETE', `/v2/ws/del/manifests/${reference}`);
    expect(response.status, response.body).toBe(status);
    if (error !== null) expect(ociError(response)).toEqual(error);
    expect(seen('DELETE')).toEqual(status === 202 ? [`/v2/ws/del/manifests/${reference}`] : []);
    expect(await stack.direct.digestOf('ws/del', 'v1')).toBe(v1After === null ? null : sha256(manifest(v1After)));
    expect(await stack.direct.digestOf('ws/del', 'latest')).toBe(latestAfter === null ? null : sha256(manifest(latestAfter)));
  });

  it("the admin's delete is in the audit log, and no one else's", () => {
    const audits = stack.gate.logs.filter((line) => line['audit'] === true && line['event'] === 'delete' && (line['detail'] as { immutableTag?: string } | null)?.immutableTag !== undefined);
    expect(audits).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'audit',
        identity: 'admin',
        method: 'DELETE',
        repository: 'ws/del',
        reference: sha256(manifest(1)),
        decision: 'allow',
        status: 202,
        detail: { immutableTag: 'v1', rule: 'immutableTags[0]' },
      }),
    ]);
  });
});

describe('real clients', () => {
  it("skopeo pushing other content to an immutable tag fails with the gate's message", async () => {
    const other = await buildImage(join(stack.work, 'other'), { seed: 'write-safety other', tag: 'v1' });
    const [, password] = Buffer.from(stack.auth.updater.slice('Basic '.length), 'base64').toString().split(':');
    const result = await pushLayout(other.layoutDir, 'v1', `${stack.gate.host}/ws/app:v1`, { username: 'updater', password: password! });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('tag \\"v1\\" in repository \\"ws/app\\" is immutable (immutableTags[0]); it cannot be overwritten, push a new tag instead');
  });

  it('after every attempt, the registry still has v1 at the first digest', async () => {
    expect(await stack.direct.digestOf('ws/app', 'v1')).toBe(sha256(manifest(1)));
  });
});
