/**
 * Issue 4's browser acceptance for `/-/account`: a real oidc-provider, a real
 * Chromium, the real registry and skopeo. The tests run in order and share
 * one browser: alice signs in, makes and revokes a key, and logs out.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { loginAtIdp, logoutAtIdp } from '../harness/browser.js';
import { buildImage, type BuiltImage } from '../harness/images.js';
import { pushLayout } from '../harness/skopeo.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { startGate } from '../support/gate.js';
import { send } from '../support/http.js';
import { testIdpAuth } from '../support/sso.js';
import { useSsoGate } from '../support/sso-gate.js';

/**
 * The README's screenshots are re-taken only on request
 * (`ZOT_GATE_SCREENSHOTS=1 npx vitest run test/e2e/account.test.ts`), so a
 * test run never rewrites tracked files; otherwise they go to a temp dir.
 */
const DOCS = process.env.ZOT_GATE_SCREENSHOTS === '1' ? join(import.meta.dirname, '..', '..', 'docs') : mkdtempSync(join(tmpdir(), 'zot-gate-shots-'));
const accessControl = {
  repositories: {
    '**': { anonymousPolicy: ['read'], policies: [{ groups: ['artifact-workloads'], actions: ['read', 'create'] }] },
    'blumeops/**': { policies: [{ groups: ['blumeops-ci'], actions: ['read', 'create'] }], defaultPolicy: ['read'] },
  },
  adminPolicy: { groups: ['admins'], actions: ['read', 'create', 'update', 'delete'] },
};

const sso = useSsoGate({
  accessControl,
  auth: (idp) => testIdpAuth(idp, { apikey: { maxLifetime: '90d' } }),
  // oidc-provider ignores the port of a loopback URI for this (native) client.
  idp: { postLogoutRedirectUris: ['http://127.0.0.1/-/account'] },
  browser: true,
});
let page: Page;
let work: string;
let image: BuiltImage;
/** the browser's gate cookies, as a Cookie header */
let cookie: string;
let csrf: string;

beforeAll(async () => {
  work = await makeTempDir('account');
  image = await buildImage(join(work, 'img'), { seed: 'account-page', tag: '1' });
  page = await sso.browser.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
}, 60_000);

afterAll(async () => {
  if (work) await removeDir(work);
});

const account = () => `${sso.gate.url}/-/account`;
const keysOf = async (owner: string) => (await sso.gate.store.list(owner)).map((record) => record.label).sort();
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  send(sso.gate.url, {
    method: 'POST',
    path,
    headers: { cookie, origin: sso.gate.url, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });

describe('before signing in', () => {
  it('/-/account sends a visitor without a session to login, coming back to /-/account', async () => {
    const response = await send(sso.gate.url, { path: '/-/account' });
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('/zot/auth/login?provider=oidc&callback_ui=%2F-%2Faccount');
  });

  it("a key made for alice before any login carries no groups", async () => {
    const made = await sso.gate.store.create({ owner: 'alice', label: 'laptop', expiresAt: new Date(Date.now() + 30 * 86_400_000), scopes: ['blumeops/**'] });
    const found = sso.gate.store.lookup(made.key, new Date());
    expect(found.ok && found.groups).toEqual([]);
  });
});

describe('alice in a real browser', () => {
  it('opens /-/account, signs in at the IdP, and lands back on it, which shows her and her group', async () => {
    await page.goto(account());
    expect(new URL(page.url()).origin).toBe(sso.idp.issuer);
    await loginAtIdp(page, 'alice');
    expect(page.url()).toBe(account());
    expect(await page.locator('.facts dd').first().innerText()).toBe('alice');
    expect(await page.locator('.facts .chip').allInnerTexts()).toEqual(['admins']);
    expect(await page.locator('table.keys td.label').allInnerTexts()).toEqual(['laptop']);
    await sso.browser.screenshot(page, join(DOCS, 'account-logged-in.png'));

    const cookies = await sso.browser.context.cookies(sso.gate.url);
    cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    csrf = await page.locator('form[action="/-/account/keys"] input[name="csrf"]').inputValue();
  });

  it('the login stored her groups: a key made for alice without groups now carries admins', async () => {
    const made = await sso.gate.store.create({ owner: 'alice', label: 'made by the operator', expiresAt: null, scopes: [] });
    const found = sso.gate.store.lookup(made.key, new Date());
    expect(found.ok && found.groups).toEqual(['admins']);
    await sso.gate.store.revoke(made.record.id);
  });

  it('creates a key on the page that pushes with skopeo; revoking it on the page stops the next push', async () => {
    await page.goto(account());
    await page.fill('#key-label', 'ci push');
    await page.selectOption('#key-expires', '7d');
    await Promise.all([page.waitForURL(`${sso.gate.url}/-/account/keys`), page.click('form[action="/-/account/keys"] button[type="submit"]')]);
    const key = await page.locator('[data-key]').innerText();
    expect(key).toMatch(/^zak_[0-9a-f]{32}$/);
    expect(await page.locator('pre.copy').allInnerTexts()).toEqual([
      `skopeo login ${sso.gate.host} -u alice -p ${key}`,
      `echo ${key} | docker login ${sso.gate.host} -u alice --password-stdin`,
    ]);
    expect(await page.locator('table.keys td.label').allInnerTexts()).toEqual(['laptop', 'ci push']);
    await sso.browser.screenshot(page, join(DOCS, 'account-key-created.png'));

    const pushed = await pushLayout(image.layoutDir, '1', `${sso.gate.host}/team/app:1`, { username: 'alice', password: key });
    expect(pushed.code, pushed.stderr).toBe(0);

    await page.goto(account());
    const row = page.locator('table.keys tr', { hasText: 'ci push' });
    await Promise.all([page.waitForURL(account()), row.locator('button', { hasText: 'Revoke' }).click()]);
    expect(await page.locator('table.keys td.label').allInnerTexts()).toEqual(['laptop']);
    expect(await keysOf('alice')).toEqual(['laptop']);

    const refused = await pushLayout(image.layoutDir, '1', `${sso.gate.host}/team/app:2`, { username: 'alice', password: key });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/unauthorized|401/i);

    const audit = sso.gate.logs.filter((l) => l.audit === true && (l.event === 'key-create' || l.event === 'key-revoke'));
    const keyIdOf = (l: (typeof audit)[number]) => (l.detail as { keyId?: string } | null)?.keyId;
    expect(audit.map((l) => [l.event, l.identity, l.authMethod, keyIdOf(l) === keyIdOf(audit[0]!)])).toEqual([['key-create', 'alice', 'session', true], ['key-revoke', 'alice', 'session', true]]);
    expect(JSON.stringify(sso.gate.logs)).not.toContain(key.slice(4));
  });

  it('her session cookie authorises a registry write only with the zot UI header', async () => {
    const path = '/v2/team/session/blobs/uploads/';
    const without = await send(sso.gate.url, { method: 'POST', path, headers: { cookie } });
    const withHeader = await send(sso.gate.url, { method: 'POST', path, headers: { cookie, 'x-zot-api-client': 'zot-ui' } });
    expect([without.status, withHeader.status]).toEqual([401, 202]);
  });

  it.each<[string, (token: string) => string | null, Record<string, string>]>([
    ['no token', () => null, {}],
    ['an empty token', () => '', {}],
    ['a wrong token', (token) => `${token.slice(1)}A`, {}],
    ['the right token and a foreign Origin', (token) => token, { origin: 'https://evil.example' }],
    ['the right token and Origin null', (token) => token, { origin: 'null' }],
  ])('a key form with %s is refused with 403 and makes no key', async (_name, tokenOf, headers) => {
    const token = tokenOf(csrf);
    const response = await post('/-/account/keys', form({ ...(token === null ? {} : { csrf: token }), label: 'x', expires: '7d' }), headers);
    expect(response.status).toBe(403);
    expect(response.body).toContain('Nothing was changed');
    expect(await keysOf('alice')).toEqual(['laptop']);
  });

  it('the same form with the right token from our own origin makes the key', async () => {
    const response = await post('/-/account/keys', form({ csrf, label: 'from a raw post', expires: '7d' }));
    expect(response.status).toBe(201);
    const [made] = (await sso.gate.store.list('alice')).filter((record) => record.label === 'from a raw post');
    expect(await sso.gate.store.revoke(made!.id)).toBe(true);
  });

  it.each([
    ['an empty label', { label: '  ', expires: '7d' }, 'Label: give the key a name of 1 to 100 characters.'],
    ['a label of 101 characters', { label: 'x'.repeat(101), expires: '7d' }, 'Label: give the key a name of 1 to 100 characters.'],
    ['an expiry beyond maxLifetime', { label: 'x', expires: '91d' }, 'Expires after: choose one of the offered lifetimes.'],
    ['no expiry under a maxLifetime', { label: 'x', expires: 'never' }, 'Expires after: choose one of the offered lifetimes.'],
    ['a bad scope', { label: 'x', expires: '7d', scopes: 'team/**, a/[' }, 'Repositories: &quot;a/[&quot; is not a valid pattern (unclosed &quot;[&quot;).'],
  ])('a key form with %s is answered 400, says why, and makes no key', async (_name, fields, problem) => {
    const response = await post('/-/account/keys', form({ csrf, ...fields }));
    expect(response.status).toBe(400);
    expect(response.body).toContain(`<p class="problem" role="alert">${problem}</p>`);
    expect(await keysOf('alice')).toEqual(['laptop']);
  });

  it('a JSON body is refused before it reaches the form handler', async () => {
    const response = await post('/-/account/keys', JSON.stringify({ csrf, label: 'x', expires: '7d' }), { 'content-type': 'application/json' });
    expect(response.status).toBe(415);
    expect(await keysOf('alice')).toEqual(['laptop']);
  });

  it("revoking someone else's key answers 404 and keeps it", async () => {
    const bobs = await sso.gate.store.create({ owner: 'bob', label: 'bob ci', expiresAt: null, scopes: [] });
    const response = await post('/-/account/keys/revoke', form({ csrf, id: bobs.record.id }));
    expect(response.status).toBe(404);
    expect(await keysOf('bob')).toEqual(['bob ci']);
  });

  it('revoke and logout forms without the token are refused and change nothing', async () => {
    const [laptop] = await sso.gate.store.list('alice');
    const revoke = await post('/-/account/keys/revoke', form({ id: laptop!.id }));
    const logout = await post('/-/account/logout', form({}));
    expect([revoke.status, logout.status]).toEqual([403, 403]);
    expect(logout.headers['set-cookie']).toBeUndefined();
    expect(await keysOf('alice')).toEqual(['laptop']);
  });

  it('logout clears the session; after the IdP sign-out too, /-/account asks for a login again', async () => {
    await page.goto(account());
    await Promise.all([page.waitForURL(`${sso.gate.url}/-/account/logout`), page.click('button:has-text("Log out")')]);
    expect(await page.locator('h1').innerText()).toBe('You are signed out');
    expect((await sso.browser.context.cookies(sso.gate.url)).map((c) => c.name).filter((n) => n === 'session' || n === 'user')).toEqual([]);
    expect(sso.gate.logs.filter((l) => l.audit === true && l.event === 'logout').map((l) => l.identity)).toEqual(['alice']);

    const idpSignOut = page.locator('a', { hasText: 'Sign out of Test IdP too' });
    expect(new URL((await idpSignOut.getAttribute('href')) ?? '').origin).toBe(sso.idp.issuer);
    await Promise.all([page.waitForURL((url) => url.origin === sso.idp.issuer), idpSignOut.click()]);
    await logoutAtIdp(page);
    // post_logout_redirect_uri is /-/account, which sends the browser to the gate's login and on to the IdP's form
    expect(new URL(page.url()).origin).toBe(sso.idp.issuer);
    expect(new URL(page.url()).pathname).toMatch(/^\/interaction\//);
  });
});

describe('without SSO configured', () => {
  it('/-/account answers 404 with a page saying nobody can sign in', async () => {
    const plain = await startGate({ upstream: sso.registry.url, accessControl });
    try {
      const response = await send(plain.url, { path: '/-/account' });
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.body).toContain('<h1>Sign-in is not set up</h1>');
    } finally {
      await plain.stop();
    }
  });
});
