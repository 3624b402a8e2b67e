/**
 * Issue 8: the gate's HTML pages carry a strict Content-Security-Policy and
 * the usual security headers, and its cookies carry the right flags.
 *
 * - A real Chromium signs in at a real oidc-provider, sees the account page,
 *   makes and revokes a key and logs out with no CSP violation (the policy
 *   does not break the page; its stylesheet applies by hash).
 * - Every HTML response the gate can send answers with exactly the page
 *   headers (a table over the account, sign-in and error pages).
 * - Cookies: `session` and the login-state cookie are HttpOnly, zot's `user`
 *   cookie is readable by script (zot's UI reads it; it carries no
 *   authority), all SameSite=Lax with their Path, Secure behind https.
 *
 * Attacks the headers stop: the account page framed by another site to
 * click "Revoke" (clickjacking); injected markup loading script, images or a
 * `<base>`; a shared cache keeping a page that showed a new key.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { loginAtIdp, startBrowser, type Browser } from '../harness/browser.js';
import { startIdp, type Idp } from '../harness/idp.js';
import { freePort } from '../harness/ports.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { send, type RawResponse } from '../support/http.js';
import { formToken, signIn } from '../support/sign-in.js';
import { testIdpAuth } from '../support/sso.js';

const accessControl = { repositories: { '**': { anonymousPolicy: ['read'], defaultPolicy: ['read'] } } };
const sso = (issuer: string, credentialsFile: string) => testIdpAuth({ issuer, credentialsFile }, { apikey: { maxLifetime: '90d' } });

let idp: Idp;
let registry: Registry;
let browser: Browser;
let page: Page;
/** the gate the browser uses */
let gate: GateUnderTest;
/** externalUrl https://registry.example.org */
let httpsGate: GateUnderTest;
/** its IdP is a closed port */
let idpDownGate: GateUnderTest;
/** no SSO configured */
let plainGate: GateUnderTest;
/** CSP violations the page reported: its `securitypolicyviolation` events and console errors */
const violations: string[] = [];
/** every Set-Cookie the gate sent the browser, by response path */
const setCookies: Array<{ path: string; lines: string[] }> = [];
/** the browser's session, as a Cookie header, and its form token */
let cookie = '';
let csrf = '';

beforeAll(async () => {
  [idp, registry, browser] = await Promise.all([startIdp(), startRegistry(), startBrowser()]);
  const closed = `http://127.0.0.1:${await freePort()}`;
  [gate, httpsGate, idpDownGate, plainGate] = await Promise.all([
    startGate({ upstream: registry.url, accessControl, extra: { auth: sso(idp.issuer, idp.credentialsFile) } }),
    startGate({ upstream: registry.url, accessControl, extra: { externalUrl: 'https://registry.example.org', auth: sso(idp.issuer, idp.credentialsFile) } }),
    startGate({ upstream: registry.url, accessControl, extra: { auth: sso(closed, idp.credentialsFile) } }),
    startGate({ upstream: registry.url, accessControl }),
  ]);
  // Init scripts run outside the page's CSP, so the listener is there before any markup is parsed.
  // (Page code is passed as text: the project compiles without the DOM library.)
  await browser.context.addInitScript({
    content: "document.addEventListener('securitypolicyviolation', (e) => { (window.__csp ??= []).push(e.effectiveDirective + ' ' + e.blockedURI); });",
  });
  page = await browser.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  page.on('response', async (response) => {
    const url = new URL(response.url());
    if (url.origin !== gate.url) return;
    const header = await response.headerValue('set-cookie');
    if (header !== null) setCookies.push({ path: url.pathname, lines: header.split('\n') });
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const g of [gate, httpsGate, idpDownGate, plainGate]) await g?.stop();
  await registry?.stop();
  await idp?.close();
});

/** The violations the current document saw, from the init script. */
async function pageViolations(): Promise<string[]> {
  return page.evaluate<string[]>('window.__csp ?? []');
}

describe('a real Chromium', () => {
  it('signs in, sees the account page with its stylesheet applied, makes and revokes a key, and logs out: no CSP violation', async () => {
    const account = `${gate.url}/-/account`;
    await page.goto(account);
    await loginAtIdp(page, 'alice');
    expect(page.url()).toBe(account);
    expect(await page.locator('.facts dd').first().innerText()).toBe('alice');
    // The inline stylesheet is allowed by its hash: had it been blocked, sections would have no rounded border.
    expect(await page.evaluate<string>("getComputedStyle(document.querySelector('section')).borderTopLeftRadius")).toBe('10px');
    // HttpOnly, seen from the page: script reads zot's `user` cookie, never the session.
    expect(await page.evaluate<string>('document.cookie')).toBe('user=alice');
    expect(await pageViolations()).toEqual([]);
    cookie = (await browser.context.cookies(gate.url)).map((c) => `${c.name}=${c.value}`).join('; ');
    csrf = await page.locator('form[action="/-/account/keys"] input[name="csrf"]').inputValue();

    await page.fill('#key-label', 'csp check');
    await Promise.all([page.waitForURL(`${gate.url}/-/account/keys`), page.click('form[action="/-/account/keys"] button[type="submit"]')]);
    expect(await page.locator('[data-key]').innerText()).toMatch(/^zak_[0-9a-f]{32}$/);
    expect(await pageViolations()).toEqual([]);

    const row = page.locator('table.keys tr', { hasText: 'csp check' });
    await Promise.all([page.waitForURL(account), row.locator('button', { hasText: 'Revoke' }).click()]);
    expect(await page.locator('table.keys td.label').count()).toBe(0);
    expect(await pageViolations()).toEqual([]);

    await Promise.all([page.waitForURL(`${gate.url}/-/account/logout`), page.click('button:has-text("Log out")')]);
    expect(await page.locator('h1').innerText()).toBe('You are signed out');
    expect(await pageViolations()).toEqual([]);
    expect(violations).toEqual([]);
  });

  it('the violation listener is live: markup injected into the signed-out page is blocked and reported', async () => {
    await page.evaluate("document.body.append(Object.assign(document.createElement('img'), { src: '/injected.png' }))");
    await expect.poll(pageViolations).toEqual([`img-src ${new URL('/injected.png', gate.url).href}`]);
  });
});

describe('cookies the browser was given', () => {
  /** `name=value; A=b; Flag` → name and attributes (lower-cased names; the value left out). */
  const parse = (line: string) => {
    const [pair, ...attributes] = line.split(';').map((part) => part.trim());
    const name = pair!.slice(0, pair!.indexOf('='));
    const cleared = pair!.slice(name.length + 1) === '';
    const attrs = Object.fromEntries(attributes.map((a) => (a.includes('=') ? [a.slice(0, a.indexOf('=')).toLowerCase(), a.slice(a.indexOf('=') + 1)] : [a.toLowerCase(), true])));
    return { name, cleared, attrs };
  };
  const sentOn = (path: string) => setCookies.filter((c) => c.path === path).flatMap((c) => c.lines.map(parse));
  const cleared = { 'max-age': '0', expires: 'Thu, 01 Jan 1970 00:00:00 GMT' };

  it('login: the state cookie is HttpOnly, SameSite=Lax, scoped to the callback path, for 10 minutes', () => {
    expect(sentOn('/zot/auth/login')).toEqual([
      { name: 'zot_gate_login', cleared: false, attrs: { 'max-age': '600', path: '/zot/auth/callback', httponly: true, samesite: 'Lax' } },
    ]);
  });

  it('callback: the state cookie is spent; session is HttpOnly, user is readable; both SameSite=Lax on /', () => {
    expect(sentOn('/zot/auth/callback/oidc')).toEqual([
      { name: 'zot_gate_login', cleared: true, attrs: { ...cleared, path: '/zot/auth/callback', httponly: true, samesite: 'Lax' } },
      { name: 'session', cleared: false, attrs: { 'max-age': '7200', path: '/', httponly: true, samesite: 'Lax' } },
      { name: 'user', cleared: false, attrs: { 'max-age': '7200', path: '/', samesite: 'Lax' } },
    ]);
  });

  it('logout clears both with the same Path and flags they were set with', () => {
    expect(sentOn('/-/account/logout')).toEqual([
      { name: 'session', cleared: true, attrs: { ...cleared, path: '/', httponly: true, samesite: 'Lax' } },
      { name: 'user', cleared: true, attrs: { ...cleared, path: '/', samesite: 'Lax' } },
    ]);
  });

  it.each([
    ['plain http', false, () => gate, {}],
    ['behind Caddy on https (X-Forwarded-Proto)', true, () => gate, { 'x-forwarded-proto': 'https' }],
    ['externalUrl https', true, () => httpsGate, {}],
  ])('%s: the state cookie is Secure=%s', async (_name, secure, which, headers) => {
    const response = await send(which().url, { path: '/zot/auth/login?provider=oidc&callback_ui=%2F-%2Faccount', headers });
    expect(response.status).toBe(302);
    const lines = [response.headers['set-cookie'] ?? []].flat();
    expect(lines.map((line) => parse(line).attrs)).toEqual([
      { 'max-age': '600', path: '/zot/auth/callback', httponly: true, samesite: 'Lax', ...(secure ? { secure: true } : {}) },
    ]);
  });
});

describe('every HTML response carries the page headers', () => {
  // The browser's session ended with its logout above, for good (logout revokes it): these rows need a live one.
  beforeAll(async () => {
    const fresh = await signIn(gate.url, 'alice');
    cookie = `session=${fresh.cookies.get('session')!}; user=alice`;
    csrf = formToken(fresh.body);
  });
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const post = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    send(gate.url, { method: 'POST', path, headers: { cookie, origin: gate.url, 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: form(fields) });

  const rows: Array<[string, () => Promise<RawResponse>, number]> = [
    ['the account page', () => send(gate.url, { path: '/-/account', headers: { cookie } }), 200],
    ['a key made by the form', () => post('/-/account/keys', { csrf, label: 'table', expires: '7d' }), 201],
    ['a key form refused for its label', () => post('/-/account/keys', { csrf, label: ' ', expires: '7d' }), 400],
    ['a form from another origin', () => post('/-/account/keys', { csrf, label: 'x', expires: '7d' }, { origin: 'https://evil.example' }), 403],
    ['a form without a session', () => post('/-/account/keys', { csrf, label: 'x', expires: '7d' }, { cookie: '' }), 403],
    ['revoking an unknown key', () => post('/-/account/keys/revoke', { csrf, id: '00000000-0000-4000-8000-000000000000' }), 404],
    ['the signed-out page', () => post('/-/account/logout', { csrf }), 200],
    ['an unknown login provider', () => send(gate.url, { path: '/zot/auth/login?provider=nope' }), 400],
    ['a callback without a login in progress', () => send(gate.url, { path: '/zot/auth/callback/oidc?code=x&state=y' }), 400],
    ['a callback whose state does not match', async () => {
      const login = await send(gate.url, { path: '/zot/auth/login?provider=oidc' });
      const state = [login.headers['set-cookie'] ?? []].flat()[0]!.split(';')[0]!;
      return send(gate.url, { path: '/zot/auth/callback/oidc?code=x&state=forged', headers: { cookie: state } });
    }, 400],
    ['sign-in while the IdP is down', () => send(idpDownGate.url, { path: '/zot/auth/login?provider=oidc' }), 503],
    ['the account page without SSO configured', () => send(plainGate.url, { path: '/-/account' }), 404],
  ];

  it.each(rows)('%s', async (_name, request, status) => {
    const response = await request();
    expect(response.status, response.body).toBe(status);
    expect(response.body.startsWith('<!doctype html>')).toBe(true);
    // The hash of the stylesheet actually served: the policy allows it and nothing else.
    const style = /<style>([\s\S]*?)<\/style>/.exec(response.body)![1]!;
    const hash = createHash('sha256').update(style).digest('base64');
    const names = ['content-type', 'cache-control', 'content-security-policy', 'x-content-type-options', 'x-frame-options', 'referrer-policy', 'cross-origin-opener-policy'];
    expect(Object.fromEntries(names.map((name) => [name, response.headers[name]]))).toEqual({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': `default-src 'none'; style-src 'sha256-${hash}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'same-origin',
      'cross-origin-opener-policy': 'same-origin',
    });
  });
});
