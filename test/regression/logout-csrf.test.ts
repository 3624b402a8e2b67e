/**
 * Logging a signed-in user out from another site (logout CSRF).
 *
 * The attack: a page on another origin auto-submits a `text/plain` form to
 * the gate's `POST /zot/auth/logout`. A form needs no CORS preflight, and
 * SameSite=Lax does not keep the session cookie off it when the page is on
 * the same site — another app on the same host or domain (here
 * 127.0.0.1:other-port, cross-origin but same-site). zot's logout path
 * checked nothing, so the session was revoked and its cookies cleared: the
 * user was signed out by a page they merely opened. (`/-/account/logout`
 * already checked the origin and a CSRF token.)
 *
 * Now `POST /zot/auth/logout` must carry zot's UI header
 * (`X-ZOT-API-CLIENT: zot-ui`, which a form cannot send and which needs a
 * preflight the gate never grants) or an `Origin` equal to the gate's public
 * origin. Anything else is 403 with an OCI error body, and the session is
 * left as it was. Real Chromium, real OIDC provider, real registry.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { loginAtIdp } from '../harness/browser.js';
import { ociBody, send } from '../support/http.js';
import { signIn } from '../support/sign-in.js';
import { useSsoGate } from '../support/sso-gate.js';

const REFUSED = ociBody(
  'DENIED',
  "logout must come from zot's UI (X-ZOT-API-CLIENT: zot-ui) or from this registry's own origin; the session was not ended",
  'cross-origin-request',
);

const sso = useSsoGate({ accessControl: { repositories: { '**': { anonymousPolicy: ['read'] } } }, browser: true });
/** another origin on the same host: 127.0.0.1, another port */
let attacker: Server;
let attackerUrl: string;

beforeAll(async () => {
  attacker = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      `<!doctype html><title>cute cats</title>` +
        `<form id="f" method="POST" action="${sso.gate.url}/zot/auth/logout" enctype="text/plain"><input type="hidden" name="a" value="b"></form>` +
        `<script>document.getElementById('f').submit()</script>`,
    );
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
  // after Chromium closes, before the gate stops
  sso.onStop(async () => {
    attacker.closeAllConnections();
    await new Promise((resolve) => attacker.close(resolve));
  });
}, 60_000);

/** The account page with this session cookie: 200 naming the user while the session lasts. */
async function accountWith(cookie: string): Promise<{ status: number; body: string }> {
  const response = await send(sso.gate.url, { path: '/-/account', headers: { cookie } });
  return { status: response.status, body: response.body };
}

describe('a page on another origin of the same site auto-submits a text/plain form to /zot/auth/logout', () => {
  it('403 with an OCI error body; the browser sent its session cookie, and is still signed in afterwards', async () => {
    const page = await sso.browser.newPage();
    try {
      await page.goto(`${sso.gate.url}/-/account`);
      await loginAtIdp(page, 'carol');
      expect(new URL(page.url()).pathname).toBe('/-/account');
      const before = (await sso.browser.context.cookies(sso.gate.url)).find((c) => c.name === 'session');
      expect(before).toBeDefined();

      const answered = page.waitForResponse((response) => response.url() === `${sso.gate.url}/zot/auth/logout`);
      await page.goto(attackerUrl);
      const response = await answered;
      const sent = await response.request().allHeaders();
      // The attack is real: cross-origin, yet same-site, so SameSite=Lax let the cookie through.
      expect(sent.origin).toBe(attackerUrl);
      expect(sent.cookie).toContain(`session=${before!.value}`);
      expect(response.status()).toBe(403);
      expect(await response.json()).toEqual(REFUSED);
      expect(response.headers()['set-cookie']).toBeUndefined();

      const after = (await sso.browser.context.cookies(sso.gate.url)).find((c) => c.name === 'session');
      expect(after?.value).toBe(before!.value);
      const account = await accountWith(`session=${before!.value}`);
      expect(account.status).toBe(200);
      expect(account.body).toContain('carol');
    } finally {
      await page.close();
    }
  }, 60_000);
});

describe('POST /zot/auth/logout over HTTP', () => {
  const session = async (): Promise<string> => {
    const signedIn = await signIn(sso.gate.url, 'bob');
    expect(signedIn.status).toBe(200);
    return `session=${signedIn.cookies.get('session')!}`;
  };

  it.each([
    ["zot's UI header", { 'x-zot-api-client': 'zot-ui' }],
    ["the gate's own Origin", () => ({ origin: sso.gate.url })],
  ])('with %s: 200, and the session is ended', async (_name, extra) => {
    const cookie = await session();
    const headers = { cookie, ...(typeof extra === 'function' ? extra() : extra) };
    const logout = await send(sso.gate.url, { method: 'POST', path: '/zot/auth/logout', headers });
    expect(logout.status).toBe(200);
    expect((await accountWith(cookie)).status).toBe(302);
  }, 30_000);

  it.each([
    ['neither header nor Origin', {}],
    ['another origin of the same host', () => ({ origin: attackerUrl })],
    ['Origin: null (a sandboxed frame, a redirect across origins)', { origin: 'null' }],
    ['the gate origin with a trailing slash', () => ({ origin: `${sso.gate.url}/` })],
    ["zot's UI header in other letters' case of its value", { 'x-zot-api-client': 'ZOT-UI' }],
    ['a text/plain body as a form sends it', { 'content-type': 'text/plain' }],
  ])('with %s: 403 with an OCI error body; the session still works', async (_name, extra) => {
    const cookie = await session();
    const headers = { cookie, ...(typeof extra === 'function' ? extra() : extra) };
    const logout = await send(sso.gate.url, { method: 'POST', path: '/zot/auth/logout', headers, ...('content-type' in headers ? { body: 'a=b' } : {}) });
    expect(logout.status).toBe(403);
    expect(logout.json()).toEqual(REFUSED);
    expect(logout.headers['set-cookie']).toBeUndefined();
    const account = await accountWith(cookie);
    expect(account.status).toBe(200);
    expect(account.body).toContain('bob');
  }, 30_000);
});
