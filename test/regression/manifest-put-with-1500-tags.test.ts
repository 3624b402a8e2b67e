/**
 * Regression: one manifest PUT holds a repository's write lock for seconds.
 *
 * OCI dist-spec v1.1 lets a manifest PUT by digest name tags in its query,
 * and the gate checks each one as a tag PUT: one upstream HEAD per tag, all
 * under the repository's write lock. A client sent
 *
 *     PUT /v2/acme/app/manifests/sha256:…?tag=t0&tag=t1&…&tag=t1499
 *
 * and the gate made 1,501 upstream requests under the lock (about 2 s), while
 * every other push to that repository waited. zot (2.1.16 and later) accepts
 * at most 46 `tag=` values, counted as sent, and answers more with 414
 * MANIFEST_INVALID; the gate does the same, before any lookup or lock — the
 * recorder in front of the registry sees nothing.
 */
import { describe, expect, it } from 'vitest';
import { sha256 } from '../harness/images.js';
import { ociError, send } from '../support/http.js';
import { annotated, OCI_MANIFEST } from '../support/registry-ops.js';
import { useStack } from '../support/stack.js';

const stack = useStack({
  hop: 'recorder',
  accessControl: { repositories: { 'acme/**': { policies: [{ users: ['maintainer'], actions: ['read', 'create', 'update'] }] } } },
  users: { maintainer: [] },
  image: { seed: 'many-tags', tag: 'latest', pushTo: ['acme/app:latest'] },
});

const manifest = () => annotated(stack.image.manifest, { 'org.example.many-tags': 'yes' });
const tags = (count: number, name = (i: number) => `t${i}`) => Array.from({ length: count }, (_, i) => `tag=${name(i)}`).join('&');

/** `null`: no credentials. */
async function put(query: string, authorization: string | null = stack.auth.maintainer) {
  stack.recorder.clear();
  return send(stack.gate.url, {
    method: 'PUT',
    path: `/v2/acme/app/manifests/${sha256(manifest())}?${query}`,
    headers: { 'content-type': OCI_MANIFEST, ...(authorization === null ? {} : { authorization }) },
    body: manifest(),
  });
}

const tooMany = (count: number) => ({
  code: 'MANIFEST_INVALID',
  message: `query parameter "tag": a manifest PUT may name at most 46 tags, this one names ${count}`,
  detail: { reason: 'too-many-tags' },
});

describe('a manifest PUT naming more than 46 tags is refused before any lookup or lock', () => {
  it.each<[string, () => string, number, boolean?]>([
    ['1,500 tags', () => tags(1500), 1500],
    ['47 tags', () => tags(47), 47],
    // counted as sent, as zot counts them: repeating one tag does not get around the limit
    ['one tag 47 times', () => tags(47, () => 'same'), 47],
    // checked before the grammar of each tag, as zot does
    ['47 tags, one of them invalid', () => `${tags(46)}&tag=-bad`, 47],
    ['anonymous, 1,500 tags', () => tags(1500), 1500, true],
  ])('%s → 414, nothing reaches the registry', async (_name, query, count, anonymous = false) => {
    const response = await put(query(), anonymous ? null : stack.auth.maintainer);
    expect(response.status, response.body).toBe(414);
    expect(ociError(response)).toEqual(tooMany(count));
    expect(stack.recorder.requests).toEqual([]);
  });

  it('46 tags pass: each is looked up, then the manifest is written', async () => {
    const response = await put(tags(46));
    expect(response.status, response.body).toBe(201);
    const seen = stack.recorder.requests.map((r) => `${r.method} ${r.url.split('?')[0]}`);
    expect(seen.filter((r) => r.startsWith('HEAD '))).toHaveLength(46);
    expect(seen.at(-1)).toBe(`PUT /v2/acme/app/manifests/${sha256(manifest())}`);
  });
});
