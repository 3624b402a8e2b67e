/**
 * Regression: a read of an invalid manifest reference answered 400.
 *
 *     GET /v2/acme/app/manifests/.INVALID_MANIFEST_NAME
 *
 * got 400 TAG_INVALID from the gate. zot looks such a reference up like any
 * other, finds nothing and answers 404 MANIFEST_UNKNOWN, and the OCI
 * conformance suite expects exactly that; a client that reads 400 as "my
 * request is broken" rather than "there is no such manifest" misbehaves.
 * Reads (GET, HEAD) of a reference that is neither a tag nor a digest — a
 * malformed digest such as `sha256:XYZ` included, as zot answers it — now get
 * 404 MANIFEST_UNKNOWN, still from the gate: nothing is forwarded. Writes
 * (PUT, DELETE) keep their 400, and so does a malformed repository name.
 */
import { describe, expect, it } from 'vitest';
import { ociError, send } from '../support/http.js';
import { useStack } from '../support/stack.js';

const stack = useStack({
  hop: 'recorder',
  accessControl: {
    repositories: {
      'acme/**': { anonymousPolicy: ['read'], policies: [{ users: ['maintainer'], actions: ['read', 'create', 'update', 'delete'] }] },
      'private/**': { policies: [{ users: ['maintainer'], actions: ['read'] }] },
    },
  },
  users: { maintainer: [] },
});

const unknown = (reference: string, repository = 'acme/app') => ({
  code: 'MANIFEST_UNKNOWN',
  message: `manifest ${JSON.stringify(reference)} is not known in repository "${repository}": it is neither a tag nor a digest`,
  detail: { reason: 'reference-grammar' },
});

const LONG = 'v'.repeat(129);

describe('GET and HEAD of a reference that is neither a tag nor a digest → 404 MANIFEST_UNKNOWN, never forwarded', () => {
  it.each<[string, string, boolean?]>([
    ['the conformance suite\'s name', '.INVALID_MANIFEST_NAME'],
    ['a tag starting with "-"', '-latest'],
    ['a tag of 129 characters', LONG],
    ['a malformed digest', 'sha256:XYZ'],
    ['a digest in upper-case hex', `sha256:${'A'.repeat(64)}`],
    ['an unsupported algorithm', `md5:${'a'.repeat(32)}`],
    ['with credentials', '.INVALID_MANIFEST_NAME', true],
  ])('%s', async (_name, reference, withKey = false) => {
    const headers = withKey ? { authorization: stack.auth.maintainer } : {};
    for (const method of ['GET', 'HEAD']) {
      stack.recorder.clear();
      const response = await send(stack.gate.url, { method, path: `/v2/acme/app/manifests/${reference}`, headers });
      expect(response.status, `${method}: ${response.body}`).toBe(404);
      if (method === 'GET') {
        const expected = unknown(reference);
        if (reference.length > 80) expected.message = `manifest "${reference.slice(0, 80)}..." is not known in repository "acme/app": it is neither a tag nor a digest`;
        expect(ociError(response)).toEqual(expected);
      }
      expect(stack.recorder.requests).toEqual([]);
    }
  });

  it('the answer is the same in a repository the caller may not read: it depends on the reference alone', async () => {
    stack.recorder.clear();
    const response = await send(stack.gate.url, { path: '/v2/private/x/manifests/.INVALID_MANIFEST_NAME' });
    expect(response.status).toBe(404);
    expect(ociError(response)).toEqual(unknown('.INVALID_MANIFEST_NAME', 'private/x'));
    expect(stack.recorder.requests).toEqual([]);
  });
});

describe('writes and malformed names keep their 400', () => {
  it.each([
    ['PUT', '/v2/acme/app/manifests/.INVALID_MANIFEST_NAME', 'TAG_INVALID'],
    ['PUT', '/v2/acme/app/manifests/sha256:XYZ', 'DIGEST_INVALID'],
    ['DELETE', '/v2/acme/app/manifests/-latest', 'TAG_INVALID'],
    ['DELETE', '/v2/acme/app/manifests/sha256:XYZ', 'DIGEST_INVALID'],
    ['GET', '/v2/Acme/app/manifests/.INVALID_MANIFEST_NAME', 'NAME_INVALID'],
  ])('%s %s → 400 %s', async (method, path, code) => {
    stack.recorder.clear();
    const response = await send(stack.gate.url, { method, path, headers: { authorization: stack.auth.maintainer, 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, ...(method === 'PUT' ? { body: '{}' } : {}) });
    expect(response.status, response.body).toBe(400);
    expect(ociError(response).code).toBe(code);
    expect(stack.recorder.requests).toEqual([]);
  });
});
