/**
 * Regression: headers a registry must never see from a client.
 *
 * zot reads two request headers that are not meant for the outside world:
 *
 * - `X-Zot-Cluster-Hop-Count`, which zot cluster members send each other; a
 *   member that receives it from a client and does not own the repository
 *   exits instead of proxying to the member that does;
 * - `X-ZOT-API-CLIENT`, zot's UI marker; an auth-less zot 2.1.12 and later
 *   dereferences a nil session store when it sees it and answers 500, which
 *   empties zot's UI behind the gate.
 *
 * The gate forwarded both, in whatever letter case the client chose. Now
 * neither reaches the registry on any forwarding path: the relay (reads),
 * @fastify/http-proxy (uploads, UI), and the manifest write and delete
 * guards (their own upstream requests). The recorder hop in front of the real
 * registry sees every request the gate sends.
 */
import { describe, expect, it } from 'vitest';
import { sha256 } from '../harness/images.js';
import { ociError, send, type RawResponse } from '../support/http.js';
import { annotated, OCI_MANIFEST } from '../support/registry-ops.js';
import { useStack } from '../support/stack.js';

const stack = useStack({
  hop: 'recorder',
  accessControl: { repositories: { 'acme/**': { policies: [{ users: ['admin'], actions: ['read', 'create', 'update', 'delete'] }] } } },
  users: { admin: [] },
  image: { seed: 'client-headers', tag: 'latest', pushTo: ['acme/app:latest'] },
});

/** Every letter case a client might use; Node keeps each as sent on the wire. */
const FORBIDDEN = {
  'X-Zot-Cluster-Hop-Count': '1',
  'x-zot-cluster-hop-count': '2',
  'X-ZOT-CLUSTER-HOP-COUNT': '3',
  'X-ZOT-API-CLIENT': 'zot-ui',
  'x-Zot-Api-Client': 'zot-ui',
};

const NAMES = new Set(['x-zot-cluster-hop-count', 'x-zot-api-client']);

/** The header names, in their case as received, of every request that reached the registry. */
function forbiddenSeen(): string[] {
  return stack.recorder.requests.flatMap((r) => r.rawHeaders.filter((_, i) => i % 2 === 0 && NAMES.has(r.rawHeaders[i]!.toLowerCase())));
}

async function sendWithForbidden(method: string, path: string, body?: string, contentType?: string): Promise<RawResponse> {
  stack.recorder.clear();
  const headers = { ...FORBIDDEN, authorization: stack.auth.admin, accept: OCI_MANIFEST, ...(contentType ? { 'content-type': contentType } : {}) };
  return send(stack.gate.url, { method, path, headers, ...(body === undefined ? {} : { body }) });
}

describe('X-Zot-Cluster-Hop-Count and X-ZOT-API-CLIENT never reach the registry, in any letter case', () => {
  const another = () => annotated(stack.image.manifest, { 'org.example.other': 'yes' });
  it.each<[string, string, () => string, number, (() => string)?, string?]>([
    ['GET manifest (relay)', 'GET', () => '/v2/acme/app/manifests/latest', 200],
    ['HEAD manifest (relay)', 'HEAD', () => '/v2/acme/app/manifests/latest', 200],
    ['GET blob (relay)', 'GET', () => `/v2/acme/app/blobs/${stack.image.configDigest}`, 200],
    ['GET tags/list (relay)', 'GET', () => '/v2/acme/app/tags/list', 200],
    ['GET a UI path (http-proxy)', 'GET', () => '/', 200],
    ['POST upload (http-proxy)', 'POST', () => '/v2/acme/app/blobs/uploads/', 202],
    ['PUT manifest (write guard)', 'PUT', () => '/v2/acme/app/manifests/other', 201, another, OCI_MANIFEST],
    // distribution 2.8 deletes by digest only
    ['DELETE manifest (delete guard)', 'DELETE', () => `/v2/acme/app/manifests/${sha256(another())}`, 202],
  ])('%s', async (_name, method, path, status, body, contentType) => {
    const response = await sendWithForbidden(method, path(), body?.(), contentType);
    // distribution answers 404 at `/`; what matters is that the request reached it.
    if (path() !== '/') expect(response.status, response.body).toBe(status);
    expect(stack.recorder.requests.length, 'the request reaches the registry').toBeGreaterThan(0);
    expect(forbiddenSeen()).toEqual([]);
  });

  it('the gate itself still reads zot\'s UI header: a 401 to zot\'s UI carries no challenge', async () => {
    stack.recorder.clear();
    const response = await send(stack.gate.url, { path: '/v2/acme/app/tags/list', headers: { 'X-ZOT-API-CLIENT': 'zot-ui' } });
    expect(response.status).toBe(401);
    expect(ociError(response).code).toBe('UNAUTHORIZED');
    expect(response.headers['www-authenticate']).toBeUndefined();
    expect(stack.recorder.requests).toEqual([]);
  });
});
