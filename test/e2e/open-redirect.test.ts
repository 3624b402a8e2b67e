/**
 * Open redirect through `callback_ui`: after a real login in a real browser,
 * every hostile value lands on the gate's own `/`, never elsewhere.
 * (The rules themselves are table-tested in test/unit/policy/redirect.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { loginAtIdp } from '../harness/browser.js';
import { useSsoGate } from '../support/sso-gate.js';

const sso = useSsoGate({ accessControl: { repositories: { '**': { anonymousPolicy: ['read'] } } }, browser: true });

describe('callback_ui after a real login', () => {
  it.each([
    ['//evil.example/x', '/'],
    ['/\\evil.example', '/'],
    ['/%5Cevil.example', '/'],
    ['https://evil.example/', '/'],
    ['/x%0d%0aSet-Cookie:%20a=b', '/'],
    ['/-/healthz', '/-/healthz'],
  ])('%s lands on the gate at %s', async (callbackUi, landing) => {
    await sso.browser.context.clearCookies();
    const page = await sso.browser.newPage();
    try {
      await page.goto(`${sso.gate.url}/zot/auth/login?provider=oidc&callback_ui=${encodeURIComponent(callbackUi)}`);
      await loginAtIdp(page, 'carol');
      const url = new URL(page.url());
      expect(url.origin).toBe(sso.gate.url);
      expect(url.pathname).toBe(landing);
      const cookies = await sso.browser.context.cookies(sso.gate.url);
      const session = cookies.find((c) => c.name === 'session');
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
      expect(cookies.find((c) => c.name === 'user')).toMatchObject({ value: 'carol', httpOnly: false });
    } finally {
      await page.close();
    }
  });
});
