/**
 * A repeated `provider` parameter on `GET /zot/auth/login`.
 *
 * zot's UI may send `?provider=oidc&provider=oidc`. The gate read the
 * repeated parameter as the list `oidc,oidc`, found no provider of that name
 * and refused the login. Repeated with one value, it is that value. Repeated
 * with different values (`?provider=a&provider=b`), the gate must not pick
 * one: which provider a user signs in with decides whose claims name them, and
 * two readers of the same URL (a proxy, a log, the gate) could read different
 * copies. That is a 400 with an OCI error body saying so.
 * Real gate, real OIDC provider.
 */
import { describe, expect, it } from 'vitest';
import { ociBody, send } from '../support/http.js';
import { testIdpProvider } from '../support/sso.js';
import { useSsoGate } from '../support/sso-gate.js';

const sso = useSsoGate({
  accessControl: { repositories: { '**': { anonymousPolicy: ['read'] } } },
  auth: (idp) => ({ failDelay: 0, openid: { providers: { oidc: testIdpProvider(idp), second: testIdpProvider(idp, { name: 'Second' }) } } }),
});

describe('GET /zot/auth/login with a repeated provider', () => {
  it.each([
    ['once', '?provider=oidc', 'oidc'],
    ['twice with one value (zot UI)', '?provider=oidc&provider=oidc', 'oidc'],
    ['three times with one value', '?provider=second&provider=second&provider=second&callback_ui=/-/account', 'second'],
  ])('%s: 302 to the IdP for that provider', async (_name, query, provider) => {
    const response = await send(sso.gate.url, { path: `/zot/auth/login${query}` });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.location!);
    expect(location.origin).toBe(new URL(sso.idp.issuer).origin);
    expect(location.searchParams.get('redirect_uri')).toBe(`${sso.gate.url}/zot/auth/callback/${provider}`);
  });

  it.each([
    ['two configured providers', '?provider=oidc&provider=second'],
    ['a provider and an empty value', '?provider=oidc&provider='],
    ['a provider and an unknown one', '?provider=oidc&provider=evil'],
    ['one value, then another, then the first again', '?provider=oidc&provider=second&provider=oidc'],
  ])('%s: 400 with an OCI error body, no login started', async (_name, query) => {
    const response = await send(sso.gate.url, { path: `/zot/auth/login${query}` });
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['set-cookie']).toBeUndefined();
    expect(response.json()).toEqual(
      ociBody('UNSUPPORTED', 'query parameter "provider" is given more than once with different values; name one login provider', 'repeated-parameter'),
    );
  });
});
