/**
 * Open redirect through `callback_ui`: after a real login in a real browser,
 * every hostile value lands on the gate's own `/`, never elsewhere.
 * (The rules themselves are table-tested in test/unit/policy/redirect.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAtIdp, startBrowser, type Browser } from '../harness/browser.js';
import { startIdp, type Idp } from '../harness/idp.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { testIdpAuth } from '../support/sso.js';

let idp: Idp;
let registry: Registry;
let gate: GateUnderTest;
let browser: Browser;

beforeAll(async () => {
  idp = await startIdp();
  registry = await startRegistry();
  gate = await startGate({
    upstream: registry.url,
    accessControl: { repositories: { '**': { anonymousPolicy: ['read'] } } },
    extra: { auth: testIdpAuth(idp) },
  });
  browser = await startBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gate?.stop();
  await registry?.stop();
  await idp?.close();
});

describe('callback_ui after a real login', () => {
  it.each([
    ['//evil.example/x', '/'],
    ['/\\evil.example', '/'],
    ['/%5Cevil.example', '/'],
    ['https://evil.example/', '/'],
    ['/x%0d%0aSet-Cookie:%20a=b', '/'],
    ['/-/healthz', '/-/healthz'],
  ])('%s lands on the gate at %s', async (callbackUi, landing) => {
    await browser.context.clearCookies();
    const page = await browser.newPage();
    try {
      await page.goto(`${gate.url}/zot/auth/login?provider=oidc&callback_ui=${encodeURIComponent(callbackUi)}`);
      await loginAtIdp(page, 'carol');
      const url = new URL(page.url());
      expect(url.origin).toBe(gate.url);
      expect(url.pathname).toBe(landing);
      const cookies = await browser.context.cookies(gate.url);
      const session = cookies.find((c) => c.name === 'session');
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
      expect(cookies.find((c) => c.name === 'user')).toMatchObject({ value: 'carol', httpOnly: false });
    } finally {
      await page.close();
    }
  });
});
