import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { makeTempDir, removeDir } from './tmp.js';

/** A headless Chromium with its own profile, see {@link startBrowser}. */
export interface Browser {
  readonly context: BrowserContext;
  newPage(): Promise<Page>;
  /** A full-page PNG at `path` (parent directories are created). */
  screenshot(page: Page, path: string): Promise<void>;
  /** Closes Chromium and removes its profile. */
  close(): Promise<void>;
}

const CHROMIUM = '/usr/bin/chromium';
// Headless on a root, GPU-less box (no sandbox, no GPU), and no traffic of its own
// (updates, sync, QUIC probes) to mix into what the tests observe.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Starts Debian's Chromium through playwright-core with a fresh persistent
 * profile in a temp dir, so cookies live exactly as long as this browser.
 */
export async function startBrowser(): Promise<Browser> {
  const profile = await makeTempDir('chromium');
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  } catch (error) {
    await removeDir(profile);
    throw error;
  }
  return {
    context,
    newPage: () => context.newPage(),
    async screenshot(page, path) {
      await mkdir(dirname(path), { recursive: true });
      await page.screenshot({ path, fullPage: true });
    },
    async close() {
      await context.close();
      await removeDir(profile);
    },
  };
}

/**
 * Logs in at the test IdP (oidc-provider v9 dev interactions) on a page that
 * shows its login form, i.e. right after navigating to an authorization URL.
 *
 * The login page (`/interaction/:uid`, title "Sign-in") holds one form posting
 * to the same URL: a hidden `prompt=login`, a text input `name="login"` (the
 * account id: `alice`, `bob`, `carol`), a password input `name="password"`
 * (required by the form, ignored by the provider) and a
 * `button[type=submit]` "Sign-in". The consent page (title "Authorize") has
 * a hidden `prompt=consent` and a submit button "Continue"; the gate's client
 * never sees it (idp-server.mjs grants its scopes), other clients may.
 * A login name outside the IdP's user table is refused: the browser lands on
 * the client's redirect URI with `error=access_denied`. Every page also has a
 * "[ Cancel ]" link to `/interaction/:uid/abort`, which does the same.
 *
 * The IdP's session cookie (`idp_session`) stays in the browser context: a
 * second authorization request returns to the client without any form.
 *
 * Resolves once the browser has left the IdP's interaction pages, i.e. has
 * loaded the client's redirect URI.
 */
export async function loginAtIdp(page: Page, username: string): Promise<void> {
  if (!isInteraction(page)) {
    throw new Error(`loginAtIdp(${username}): not on the IdP's login page but at ${page.url()} (an IdP session in this browser skips the login: clearCookies() first)`);
  }
  const login = page.locator('form:has(input[name="prompt"][value="login"])');
  await login.locator('input[name="login"]').fill(username);
  await login.locator('input[name="password"]').fill('any');
  await submit(page, login);
  if (!isInteraction(page)) return;
  const consent = page.locator('form:has(input[name="prompt"][value="consent"])');
  if ((await consent.count()) === 0) throw new Error(`loginAtIdp(${username}): neither redirected nor asked for consent, at ${page.url()}`);
  await submit(page, consent);
}

/**
 * Confirms RP-initiated logout on the IdP's "Logout Request" page (where the
 * client's end_session_endpoint redirect lands): clicks the
 * `button[name="logout"][value="yes"]` "Yes, sign me out" of form
 * `#op.logoutForm`, and resolves once the browser has left that page for the
 * `post_logout_redirect_uri` (or the IdP's "Sign-out Success" page without one).
 */
export async function logoutAtIdp(page: Page): Promise<void> {
  const from = page.url();
  await Promise.all([page.waitForURL((url) => url.href !== from), page.locator('button[name="logout"][value="yes"]').click()]);
}

/** Clicks the form's submit button and waits for the redirects to settle on another page. */
async function submit(page: Page, form: Locator): Promise<void> {
  const from = page.url();
  await Promise.all([page.waitForURL((url) => url.href !== from), form.locator('button[type="submit"]').click()]);
}

function isInteraction(page: Page): boolean {
  return new URL(page.url()).pathname.startsWith('/interaction/');
}
