/**
 * Regression: an immutable tag removed by a digest DELETE racing its PUT.
 *
 * The digest DELETE checked which immutable tags point at the digest, then
 * forwarded the DELETE, without holding anything in between. With digest D
 * under the plain tag `rc1` (rule: `v*` is immutable), an identity holding
 * `delete` but no admin sent
 *
 *     DELETE /v2/rel/app/manifests/<D>
 *
 * and, while the registry was slow to answer it, a create-only identity sent
 *
 *     PUT /v2/rel/app/manifests/v2   (the manifest D)
 *
 * The check had seen no immutable tag on D, the PUT created `v2` → D, and the
 * DELETE then removed D and `v2` with it: an immutable tag gone without an
 * admin, right after its push was answered 201. The mirror order (the PUT
 * held at the registry while the DELETE checks) lost `v2` the same way.
 *
 * The gate holds the repository's write lock from the tag lookup to the
 * registry's answer, for PUTs and DELETEs alike: whichever comes second sees
 * what the first did. A hop in front of the registry delays the first write,
 * and its log shows that the second one's first request to the registry came
 * only after that answer.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { InjectedRequest } from '../harness/faulty.js';
import { ociError, send, type RawResponse } from '../support/http.js';
import { OCI_MANIFEST } from '../support/registry-ops.js';
import { useStack } from '../support/stack.js';

const DELAY_MS = 300;
const accessControl = {
  repositories: {
    'rel/**': {
      policies: [
        { users: ['janitor'], actions: ['read', 'delete'] },
        { users: ['pusher'], actions: ['read', 'create'] },
      ],
    },
  },
};
const immutableTags = [{ repositories: ['rel/**'], tags: ['v*'] }];
const REPOSITORIES = ['rel/delete-first', 'rel/put-first'];

const stack = useStack({
  hop: 'faults',
  accessControl,
  extra: { immutableTags },
  users: { janitor: [], pusher: [] },
  image: { seed: 'delete race', tag: 'rc1', pushTo: REPOSITORIES.map((repository) => `${repository}:rc1`) },
});

const deleteD = (repository: string): Promise<RawResponse> =>
  send(stack.gate.url, { method: 'DELETE', path: `/v2/${repository}/manifests/${stack.image.manifestDigest}`, headers: { authorization: stack.auth.janitor } });

const putV2 = (repository: string): Promise<RawResponse> =>
  send(stack.gate.url, {
    method: 'PUT',
    path: `/v2/${repository}/manifests/v2`,
    headers: { authorization: stack.auth.pusher, 'content-type': OCI_MANIFEST },
    body: stack.image.manifest,
  });

/** Resolves once the hop has received the request; a delayed one is then held there. */
async function reached(method: string, path: string): Promise<InjectedRequest> {
  for (let waited = 0; waited < 5_000; waited += 5) {
    const request = stack.faults.requests.find((r) => r.method === method && r.url === path);
    if (request !== undefined) return request;
    await sleep(5);
  }
  throw new Error(`${method} ${path} never reached the registry`);
}

/** Sends the `held` write, which the hop holds for DELAY_MS, and the other one while it is held there. */
async function race(held: 'DELETE' | 'PUT', repository: string): Promise<{ deleted: RawResponse; put: RawResponse; heldRequest: InjectedRequest }> {
  const path = held === 'DELETE' ? `/v2/${repository}/manifests/${stack.image.manifestDigest}` : `/v2/${repository}/manifests/v2`;
  stack.faults.clear();
  stack.faults.inject({ method: held, path, answer: { delayMs: DELAY_MS } });
  try {
    const first = held === 'DELETE' ? deleteD(repository) : putV2(repository);
    const heldRequest = await reached(held, path);
    const second = held === 'DELETE' ? putV2(repository) : deleteD(repository);
    const [a, b] = await Promise.all([first, second]);
    return held === 'DELETE' ? { deleted: a, put: b, heldRequest } : { deleted: b, put: a, heldRequest };
  } finally {
    stack.faults.heal();
  }
}

const immutable = (repository: string) => ({
  code: 'DENIED',
  message: `tag "v2" in repository "${repository}" is immutable (immutableTags[0]); only an admin may delete it`,
  detail: { reason: 'tag-immutable', action: 'delete', repository, tag: 'v2', rule: 'immutableTags[0]' },
});

describe('a non-admin digest DELETE racing a PUT that makes the digest immutable', () => {
  // [name, the write the registry holds, repository, DELETE status, PUT status, rc1 still holds D, the hop's log]
  it.each<[string, 'DELETE' | 'PUT', string, number, number, boolean, (repository: string, digest: string) => string[]]>([
    [
      'the DELETE is held at the registry; the PUT waits for its answer, then creates v2',
      'DELETE',
      'rel/delete-first',
      202,
      201,
      false,
      (repository, digest) => [
        `GET /v2/${repository}/tags/list?n=1000`,
        `DELETE /v2/${repository}/manifests/${digest}`,
        `HEAD /v2/${repository}/manifests/v2`,
        `PUT /v2/${repository}/manifests/v2`,
      ],
    ],
    [
      'the PUT is held at the registry; the DELETE waits for its answer, then sees v2 and is refused',
      'PUT',
      'rel/put-first',
      403,
      201,
      true,
      (repository) => [
        `HEAD /v2/${repository}/manifests/v2`,
        `PUT /v2/${repository}/manifests/v2`,
        `GET /v2/${repository}/tags/list?n=1000`,
        `GET /v2/${repository}/manifests/v2`,
      ],
    ],
  ])('%s', async (_name, held, repository, deleteStatus, putStatus, rc1, log) => {
    const digest = stack.image.manifestDigest;
    const { deleted, put, heldRequest } = await race(held, repository);
    expect(deleted.status, deleted.body).toBe(deleteStatus);
    if (deleteStatus === 403) expect(ociError(deleted)).toEqual(immutable(repository));
    expect(put.status, put.body).toBe(putStatus);
    // v2 was answered 201: it must still be there, at D.
    expect(await stack.direct.digestOf(repository, 'v2')).toBe(digest);
    expect(await stack.direct.digestOf(repository, 'rc1')).toBe(rc1 ? digest : null);
    expect(stack.faults.requests.map((r) => `${r.method} ${r.url}`)).toEqual(log(repository, digest));
    // Serialised: the second write asked the registry nothing until the held one's answer came back.
    const next = stack.faults.requests[stack.faults.requests.indexOf(heldRequest) + 1]!;
    expect(heldRequest.answeredAt! - heldRequest.receivedAt).toBeGreaterThanOrEqual(DELAY_MS - 1);
    expect(next.receivedAt).toBeGreaterThanOrEqual(heldRequest.answeredAt!);
  });
});
