/**
 * A `callback_ui` beyond Latin-1 broke the login after the code exchange.
 *
 * The attack (or an honest link): `/zot/auth/login?callback_ui=/%E3%80%80x`
 * (an ideographic space) or `callback_ui=/ā`. The value passed the
 * same-site path rule and was sent back raw as the callback's `Location`;
 * Node refuses a header with characters beyond Latin-1, so the callback threw
 * after the code had been exchanged and the session cookie set: the user got
 * a raw 500 and no session, and the audit trail two "login allow" lines for
 * a login that did not happen. (Latin-1 characters went out as raw bytes,
 * which browsers read as something else.)
 *
 * Now a same-site path is sent percent-encoded (UTF-8), as a browser would
 * request it: every character outside printable ASCII is encoded, so the
 * `Location` is always a valid header and names the same path. The user
 * lands there signed in, and the audit trail has one login line.
 * Real Chromium, real OIDC provider, real registry.
 */
import { describe, expect, it } from 'vitest';
import { loginAtIdp } from '../harness/browser.js';
import { useSsoGate } from '../support/sso-gate.js';

const sso = useSsoGate({ accessControl: { repositories: { '**': { anonymousPolicy: ['read'] } } }, browser: true });

describe('signing in with a callback_ui beyond printable ASCII', () => {
  it.each([
    ['an ideographic space, percent-encoded in the link', '/%E3%80%80x', '/%E3%80%80x'],
    ['a-macron, as typed', '/ā', '/%C4%81'],
    ['Latin-1 é, as typed', '/é?tab=ü', '/%C3%A9?tab=%C3%BC'],
  ])('%s (callback_ui=%s): 302 to %s, signed in, one login audit line', async (_name, callbackUi, landing) => {
    await sso.browser.context.clearCookies();
    const page = await sso.browser.newPage();
    try {
      const called = page.waitForResponse((response) => new URL(response.url()).pathname === '/zot/auth/callback/oidc');
      await page.goto(`${sso.gate.url}/zot/auth/login?provider=oidc&callback_ui=${callbackUi}`);
      await loginAtIdp(page, 'carol');
      const callback = await called;
      expect(callback.status()).toBe(302);
      expect(callback.headers().location).toBe(landing);

      const url = new URL(page.url());
      expect(url.origin).toBe(sso.gate.url);
      expect(`${url.pathname}${url.search}`).toBe(landing);
      const cookies = await sso.browser.context.cookies(sso.gate.url);
      expect(cookies.find((c) => c.name === 'session')).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
      expect(cookies.find((c) => c.name === 'user')?.value).toBe('carol');

      const requestId = callback.headers()['x-request-id'];
      const audit = sso.gate.logs.filter((line) => line.audit === true && line.requestId === requestId);
      expect(audit).toEqual([expect.objectContaining({ event: 'login', identity: 'carol', decision: 'allow', reason: 'idp-login', status: 302 })]);
    } finally {
      await page.close();
    }
  }, 60_000);
});
