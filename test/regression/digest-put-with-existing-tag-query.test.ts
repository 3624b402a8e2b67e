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
        { users: ['mover'], actions: ['read', 'update'] },
        { users: ['maintainer'], actions: ['read', 'create', 'update'] },
      ],
    },
  },
};
const immutableTags = [{ repositories: ['acme/**'], tags: ['v*'] }];

const stack = useStack({
  hop: 'faults',
  accessControl,
  extra: { immutableTags },
  users: { attacker: [], mover: [], maintainer: [] },
  image: { seed: 'digest-put-tag-query', tag: 'latest', pushTo: ['acme/app:latest', 'acme/app:v1'] },
});

const tampered = () => annotated(stack.image.manifest, { 'org.example.tampered': 'yes' });

const overwrite = (user: string, tag: string) => ({
  code: 'DENIED',
  message: `user "${user}" may not overwrite tag "${tag}" in repository "acme/app" (needs update)`,
  detail: { reason: 'action-not-granted', action: 'update', repository: 'acme/app', tag, pattern: 'acme/**' },
});

describe('zot #4266: PUT by digest with ?tag= naming an existing tag', () => {
  it.each<[string, number, 'attacker' | 'mover' | 'maintainer', string, object | null]>([
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
    stack.faults.clear();
    const digest = sha256(tampered());
    const response = await send(stack.gate.url, {
      method: 'PUT',
      path: `/v2/acme/app/manifests/${digest}?${query}`,
      headers: { authorization: stack.auth[user], 'content-type': OCI_MANIFEST },
      body: tampered(),
    });
    expect(response.status, response.body).toBe(status);
    if (error !== null) expect(ociError(response)).toEqual(error);
    const puts = stack.faults.requests.filter((r) => r.method === 'PUT').map((r) => r.url.split('?')[0]);
    expect(puts).toEqual(status === 201 ? [`/v2/acme/app/manifests/${digest}`] : []);
  });
});
