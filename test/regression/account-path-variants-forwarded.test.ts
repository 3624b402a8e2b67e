/**
 * Regression: variants of the gate's own paths were forwarded to zot.
 *
 * `/-/` is the gate's own namespace (`/-/healthz`, `/-/readyz`,
 * `/-/metrics`, `/-/account`…), but only the exact routes were the gate's:
 * every other path outside `/v2/` went to zot as a UI path. So
 *
 *     GET /-/account/      GET /-/Account      POST /-/account/
 *
 * reached the registry, which has no business with them (and a zot UI that
 * answers any path with its page makes them look like the account page). Now
 * any `/-/` path the gate does not serve — in any letter case, trailing
 * slash, or percent-encoded form — is answered 404 by the gate and never
 * forwarded.
 */
import { describe, expect, it } from 'vitest';
import { ociError, send } from '../support/http.js';
import { useStack } from '../support/stack.js';

const stack = useStack({ hop: 'recorder', accessControl: { repositories: { '**': { anonymousPolicy: ['read'] } } } });

describe('a /-/ path the gate does not serve is answered 404 by the gate, never forwarded', () => {
  it.each([
    ['GET', '/-/account/'],
    ['GET', '/-/Account'],
    ['GET', '/-/ACCOUNT/keys'],
    ['POST', '/-/account/'],
    ['POST', '/-/Account/keys'],
    ['GET', '/-/healthz/'],
    ['POST', '/-/healthz'],
    ['GET', '/-/Metrics'],
    ['GET', '/-/'],
    ['GET', '/-'],
    ['GET', '/-/nothing?x=1'],
    ['GET', '/%2d%2Faccount'],
    ['GET', '/%252D/account'],
  ])('%s %s → 404', async (method, path) => {
    stack.recorder.clear();
    const response = await send(stack.gate.url, { method, path, ...(method === 'POST' ? { body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}) });
    expect(response.status, response.body).toBe(404);
    expect(ociError(response)).toEqual({
      code: 'UNSUPPORTED',
      message: `path ${JSON.stringify(path.split('?')[0])} is not served: paths under "/-/" are the gate's own and never forwarded`,
      detail: { reason: 'gate-path-unknown' },
    });
    expect(stack.recorder.requests).toEqual([]);
  });

  it.each([
    ['/-/healthz', 200],
    ['/-/account', 404], // no OpenID provider here: the gate's own page says so
    ['/%2D/account', 404], // the router decodes it to /-/account
  ])('the gate still serves %s itself', async (path, status) => {
    stack.recorder.clear();
    const response = await send(stack.gate.url, { path });
    expect(response.status).toBe(status);
    expect(response.body).not.toContain('gate-path-unknown');
    expect(stack.recorder.requests).toEqual([]);
  });

  it.each(['/-foo', '/assets/-/x'])('a path that only looks alike is still a UI path: %s is forwarded', async (path) => {
    stack.recorder.clear();
    await send(stack.gate.url, { path });
    expect(stack.recorder.requests.map((r) => r.url)).toEqual([path]);
  });
});
