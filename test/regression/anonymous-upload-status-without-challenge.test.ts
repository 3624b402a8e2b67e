/**
 * Regression: an anonymous request for an upload session got no challenge.
 *
 * Upload sessions belong to the identity that opened them; anyone else is
 * told the session does not exist (404 BLOB_UPLOAD_UNKNOWN), so a leaked
 * upload URL is worth nothing. But a request WITHOUT credentials got that 404
 * too:
 *
 *     GET /v2/acme/app/blobs/uploads/<id>     (no Authorization)
 *
 * in a repository anonymous users may read. A client that sends credentials
 * only when challenged (the Docker token flow: docker, containerd, the OCI
 * conformance suite) never learned it should retry with the key it holds, and
 * failed ("GET stale upload" in the conformance suite failed only because of
 * this). Now a request without credentials for a session it does not own
 * gets 401 with the Bearer challenge for pushing to the repository, like
 * every other write; a named identity that is not the owner keeps its 404.
 */
import { describe, expect, it } from 'vitest';
import { sha256 } from '../harness/images.js';
import { ociError, send } from '../support/http.js';
import { useStack } from '../support/stack.js';

const stack = useStack({
  hop: 'recorder',
  accessControl: {
    repositories: {
      // anonymous reads, as in the conformance suite's setup: GET of a session passes the policy
      'acme/**': { anonymousPolicy: ['read'], policies: [{ users: ['ci', 'other'], actions: ['read', 'create'] }] },
      // anonymous pushes too: PATCH and PUT pass the policy, only the session's owner decides
      'open/**': { anonymousPolicy: ['read', 'create'], policies: [{ users: ['ci', 'other'], actions: ['read', 'create'] }] },
    },
  },
  users: { ci: [], other: [] },
});

const BYTES = 'some bytes';

/** Opens an upload session as `authorization` (undefined: anonymous) and returns its URL. */
async function open(repository: string, authorization?: string): Promise<string> {
  const response = await send(stack.gate.url, { method: 'POST', path: `/v2/${repository}/blobs/uploads/`, headers: authorization ? { authorization } : {} });
  expect(response.status, response.body).toBe(202);
  return response.headers.location as string;
}

/** GET status, PATCH a chunk, or PUT to close, as `authorization` (undefined: anonymous). */
function use(method: 'GET' | 'PATCH' | 'PUT', session: string, authorization?: string) {
  stack.recorder.clear();
  const path = method === 'PUT' ? `${session}${session.includes('?') ? '&' : '?'}digest=${sha256(BYTES)}` : session;
  const body = method === 'GET' ? undefined : BYTES;
  const headers = { ...(authorization ? { authorization } : {}), ...(body ? { 'content-type': 'application/octet-stream' } : {}) };
  return send(stack.gate.url, { method, path, headers, ...(body ? { body } : {}) });
}

const idOf = (session: string) => session.split('?')[0]!.split('/').pop()!;

const challenge = (repository: string) =>
  `Bearer realm="${stack.gate.url}/zot/auth/token",service="${stack.gate.host}",scope="repository:${repository}:pull,push"`;

describe('no credentials, a session opened with a key → 401 with a push challenge, never forwarded', () => {
  it.each(['GET', 'PATCH', 'PUT'] as const)('acme (anonymous may read): %s', async (method) => {
    const session = await open('acme/app', stack.auth.ci);
    const response = await use(method, session);
    expect(response.status, response.body).toBe(401);
    expect(ociError(response).code).toBe('UNAUTHORIZED');
    expect(response.headers['www-authenticate']).toBe(challenge('acme/app'));
    expect(stack.recorder.requests).toEqual([]);
  });

  it.each(['GET', 'PATCH', 'PUT'] as const)('open (anonymous may push): %s', async (method) => {
    const session = await open('open/app', stack.auth.ci);
    const response = await use(method, session);
    expect(response.status, response.body).toBe(401);
    expect(ociError(response)).toEqual({
      code: 'UNAUTHORIZED',
      message: `authentication required to use upload ${idOf(session)} in repository "open/app"`,
      detail: { reason: 'authentication-required', repository: 'open/app' },
    });
    expect(response.headers['www-authenticate']).toBe(challenge('open/app'));
    expect(stack.recorder.requests).toEqual([]);
  });

  it('a session the gate never handed out looks the same', async () => {
    const response = await use('GET', '/v2/acme/app/blobs/uploads/3f1d2c4e-5b6a-4789-8abc-def012345678');
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe(challenge('acme/app'));
    expect(ociError(response).detail).toEqual({ reason: 'authentication-required', repository: 'acme/app' });
  });

  it('retrying with the key that opened it works', async () => {
    const session = await open('acme/app', stack.auth.ci);
    expect((await use('GET', session)).status).toBe(401);
    const response = await use('GET', session, stack.auth.ci);
    expect(response.status, response.body).toBe(204);
    expect(stack.recorder.requests).toHaveLength(1);
  });
});

describe('another named identity keeps 404 BLOB_UPLOAD_UNKNOWN', () => {
  it.each([
    ['acme/app', 'GET'],
    ['acme/app', 'PATCH'],
    ['acme/app', 'PUT'],
    ['open/app', 'GET'],
  ] as const)('%s: %s', async (repository, method) => {
    const session = await open(repository, stack.auth.ci);
    const response = await use(method, session, stack.auth.other);
    expect(response.status, response.body).toBe(404);
    expect(ociError(response)).toEqual({
      code: 'BLOB_UPLOAD_UNKNOWN',
      message: `upload ${idOf(session)} is not known in repository "${repository}"`,
      detail: { reason: 'upload-not-owned' },
    });
    expect(response.headers['www-authenticate']).toBeUndefined();
    expect(stack.recorder.requests).toEqual([]);
  });
});

describe('an anonymous session stays anonymous', () => {
  it('opened without credentials, continued without credentials', async () => {
    const session = await open('open/app');
    const response = await use('GET', session);
    expect(response.status, response.body).toBe(204);
  });

  it('a named identity cannot continue it', async () => {
    const session = await open('open/app');
    const response = await use('GET', session, stack.auth.ci);
    expect(response.status).toBe(404);
  });
});
