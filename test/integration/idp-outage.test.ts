/**
 * The IdP may run on a cluster whose nodes pull through this registry, so the
 * gate must start and serve while the IdP is down, and pick it up when it
 * returns, with no restart (issue 4 item 4).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdp, type Idp } from '../harness/idp.js';
import { pullToLayout, pushLayout } from '../harness/skopeo.js';
import { send } from '../support/http.js';
import { testIdpAuth } from '../support/sso.js';
import { useStack } from '../support/stack.js';

let idp: Idp;

beforeAll(async () => {
  idp = await startIdp();
  await idp.stop(); // the gate starts while the IdP is down
});

afterAll(async () => {
  await idp?.close();
});

const stack = useStack(() => ({
  accessControl: {
    repositories: { '**': { anonymousPolicy: ['read'], policies: [{ groups: ['artifact-workloads'], actions: ['read', 'create'] }] } },
  },
  extra: { auth: testIdpAuth(idp) },
  image: { seed: 'outage', tag: '1' },
}));

describe('with the IdP down', () => {
  it('an API-key push and an anonymous pull work', async () => {
    const { key } = await stack.gate.store.create({ owner: 'ci', label: 'ci', expiresAt: null, scopes: [], groups: ['artifact-workloads'] });
    const pushed = await pushLayout(stack.image.layoutDir, '1', `${stack.gate.host}/app/x:1`, { username: 'ci', password: key });
    expect(pushed.code, pushed.stderr).toBe(0);
    const pulled = await pullToLayout(`${stack.gate.host}/app/x:1`, join(stack.work, 'pulled'));
    expect(pulled.code, pulled.stderr).toBe(0);
  });

  it('login answers 503 with a page that says so, and readiness reports the IdP without failing', async () => {
    const login = await send(stack.gate.url, { path: '/zot/auth/login?provider=oidc' });
    expect(login.status).toBe(503);
    expect(login.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(login.body).toContain('Test IdP cannot be reached right now, so nobody can sign in.');
    const ready = await send(stack.gate.url, { path: '/-/readyz' });
    expect(ready.status).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', upstream: 'ok', idp: { oidc: 'unavailable' } });
  });

  it('zot UI still finds the login in mgmt', async () => {
    const mgmt = await send(stack.gate.url, { path: '/v2/_zot/ext/mgmt' });
    expect(mgmt.status).toBe(200);
    expect(mgmt.json<{ http: { auth: unknown } }>().http.auth).toEqual({ apikey: true, openid: { providers: { oidc: { name: 'Test IdP' } } } });
  });
});

describe('when the IdP returns', () => {
  it('login works within 60 s, with no restart of the gate', async () => {
    await idp.restart();
    const started = Date.now();
    let status = 503;
    while (status === 503 && Date.now() - started < 60_000) {
      const login = await send(stack.gate.url, { path: '/zot/auth/login?provider=oidc&callback_ui=/-/account' });
      status = login.status;
      if (status === 302) {
        const location = new URL(login.headers.location!);
        expect(location.origin).toBe(new URL(idp.issuer).origin);
        expect(location.searchParams.get('code_challenge_method')).toBe('S256');
        expect(location.searchParams.get('redirect_uri')).toBe(`${stack.gate.url}/zot/auth/callback/oidc`);
        expect(location.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
        expect(location.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      } else {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    expect(status).toBe(302);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect((await send(stack.gate.url, { path: '/-/readyz' })).json()).toEqual({ status: 'ready', upstream: 'ok', idp: { oidc: 'ready' } });
  }, 70_000);
});
