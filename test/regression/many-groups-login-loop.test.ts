/**
 * Regression: a user in many groups could not sign in, and the browser looped.
 *
 * The attack (on availability, and on the audit trail): a user in ~170 IdP
 * groups signs in. The gate sealed the groups into the session cookie, which
 * grew to 5.4 KB; browsers keep cookies of at most 4096 bytes and drop larger
 * ones without a word. The account page then saw no session and sent the
 * browser back to the IdP, which (already signed in) sent it straight back
 * to the callback, which issued another cookie the browser dropped, until
 * Chromium gave up with ERR_TOO_MANY_REDIRECTS: 11 login audit events and 11
 * key-store writes for one click. Anyone who can add an account to enough
 * groups at the IdP can make it unusable here, and flood the audit trail.
 *
 * Now the session cookie holds the user, the session id, the provider and
 * when it was issued; the groups stay on the server, in the key store that
 * records each user's groups at login, and are read from there on every
 * request (the same rule API keys follow). Every cookie the gate sets is
 * checked against 4096 bytes before it is set, and a login that cannot be
 * stored (the key store cannot be written, or a cookie would not fit) ends on
 * a page that says so, never on a redirect back to the IdP.
 *
 * Real Chromium, real oidc-provider, real gate and registry; the storage
 * failure is a real full tmpfs under dataDir.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page, Response } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loginAtIdp, startBrowser, type Browser } from '../harness/browser.js';
import { fill, must, sh, tmpfsProblem } from '../harness/disk-faults.js';
import { startIdp, type Idp } from '../harness/idp.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { send } from '../support/http.js';
import { signIn } from '../support/sign-in.js';
import { testIdpAuth } from '../support/sso.js';

const accessControl = {
  repositories: { '**': { anonymousPolicy: ['read'], policies: [{ groups: ['org-unit-engineering-team-007'], actions: ['read', 'create'] }] } },
};
/** 200 groups of 29 characters: about 6 KB of names, more than any browser keeps in one cookie. */
const MANY_GROUPS = Array.from({ length: 200 }, (_, i) => `org-unit-engineering-team-${String(i).padStart(3, '0')}`);
/** The longest username a login may bring (policy/username.ts), in characters that encode to nine bytes each in a cookie. */
const WIDE_NAME = '€'.repeat(256);
const MAX_COOKIE_BYTES = 4096;

let idp: Idp;
let registry: Registry;
/** One per describe block, closed before its gate stops: Chromium keeps its connections to the gate open until then. */
let browser: Browser;

beforeAll(async () => {
  [idp, registry] = await Promise.all([startIdp(), startRegistry()]);
  await idp.setUser('many', { preferred_username: 'many', email: 'many@example.org', email_verified: true, groups: MANY_GROUPS });
  await idp.setUser('wide', { preferred_username: WIDE_NAME, email: 'wide@example.org', email_verified: true, groups: MANY_GROUPS });
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  await idp?.close();
});


const startOn = (dir?: string) =>
  startGate({
    upstream: registry.url,
    accessControl,
    ...(dir === undefined ? {} : { dir }),
    extra: { auth: testIdpAuth(idp) },
  });

/** Every Set-Cookie the gate sends to the page, as sent. */
function gateCookies(page: Page, gate: GateUnderTest): string[] {
  const seen: string[] = [];
  page.on('response', (response: Response) => {
    if (!response.url().startsWith(gate.url)) return;
    void response.headersArray().then((headers) => {
      for (const { name, value } of headers) if (name.toLowerCase() === 'set-cookie') seen.push(value);
    });
  });
  return seen;
}

/** How often the gate's key store was written with a user's groups (one per completed callback). */
function countGroupWrites(gate: GateUnderTest): { count: number } {
  const counter = { count: 0 };
  const original = gate.store.recordLogin.bind(gate.store);
  gate.store.recordLogin = (name, groups, subject) => {
    counter.count += 1;
    return original(name, groups, subject);
  };
  return counter;
}

const trips = (gate: GateUnderTest, path: string) => gate.received.filter((r) => r.url.startsWith(path)).length;
const loginEvents = (gate: GateUnderTest) => gate.logs.filter((line) => line.msg === 'audit' && line.event === 'login');

describe('a user in 200 groups signs in with Chromium', () => {
  let gate: GateUnderTest;

  beforeAll(async () => {
    [gate, browser] = await Promise.all([startOn(), startBrowser()]);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await gate?.stop();
  });

  afterEach(async () => {
    // each test signs in from scratch, at the IdP too
    await browser.context.clearCookies();
  });

  it.each([
    ['many', 'many'],
    ['wide (a 256-character username of multi-byte characters)', 'wide'],
  ])('%s: lands signed in on /-/account with every group shown; one login, one store write, every cookie under 4096 bytes', async (_name, login) => {
    const username = idp.users[login]!.preferred_username;
    const page = await browser.newPage();
    try {
      const cookies = gateCookies(page, gate);
      const writes = countGroupWrites(gate);
      gate.logs.length = 0;
      gate.received.length = 0;
      await page.goto(`${gate.url}/-/account`);
      expect(new URL(page.url()).origin).toBe(idp.issuer);
      await loginAtIdp(page, login);
      expect(page.url()).toBe(`${gate.url}/-/account`);
      expect(await page.locator('.facts dd').first().innerText()).toBe(username);
      expect(await page.locator('.facts .chip').allInnerTexts()).toEqual(MANY_GROUPS);

      expect(trips(gate, '/zot/auth/login')).toBe(1);
      expect(trips(gate, '/zot/auth/callback/')).toBe(1);
      expect(loginEvents(gate).map((line) => [line.identity, line.decision])).toEqual([[username, 'allow']]);
      expect(writes.count).toBe(1);

      const names = cookies.map((header) => header.slice(0, header.indexOf('=')));
      expect(names).toEqual(expect.arrayContaining(['zot_gate_login', 'session', 'user']));
      for (const header of cookies) expect(Buffer.byteLength(header), header.slice(0, 40)).toBeLessThanOrEqual(MAX_COOKIE_BYTES);

      // the session works on the registry too, with the groups from the server
      const upload = await page.request.post(`${gate.url}/v2/team/app/blobs/uploads/`, { headers: { 'x-zot-api-client': 'zot-ui' }, maxRedirects: 0 });
      expect(upload.status()).toBe(202);
    } finally {
      await page.close();
    }
  }, 60_000);
});

const NO_TMPFS = tmpfsProblem();

// Skip reason: mounting a tmpfs needs root (CAP_SYS_ADMIN); where `mount` fails, the suite's name carries the
// mount error. CI runs as root and mounts.
describe.skipIf(NO_TMPFS !== null)(`a login that cannot be stored (dataDir on a full 1 MiB tmpfs)${NO_TMPFS === null ? '' : ` [skipped: ${NO_TMPFS}]`}`, () => {
  let dir: string;
  let mnt: string;
  let gate: GateUnderTest;

  beforeAll(async () => {
    dir = await makeTempDir('login-not-stored');
    mnt = join(dir, 'data');
    await mkdir(mnt);
    must(sh('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', mnt]));
    [gate, browser] = await Promise.all([startOn(dir), startBrowser()]);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await gate?.stop();
    if (mnt !== undefined) sh('umount', ['-l', mnt]);
    if (dir !== undefined) await removeDir(dir);
  });

  it('ends on a 503 page saying why, with no second trip to the IdP and no session; once the disk has room, signing in works', async () => {
    await fill(join(mnt, 'filler'));
    const page = await browser.newPage();
    try {
      gate.logs.length = 0;
      gate.received.length = 0;
      await page.goto(`${gate.url}/-/account`);
      let landed: Response | null = null;
      page.on('response', (response) => {
        if (new URL(response.url()).pathname.startsWith('/zot/auth/callback/')) landed = response;
      });
      await loginAtIdp(page, 'many');
      expect(new URL(page.url()).pathname).toBe('/zot/auth/callback/oidc');
      expect((landed as Response | null)?.status()).toBe(503);
      expect(await page.locator('h1').innerText()).toBe('You are not signed in');
      expect(await page.locator('body').innerText()).toContain('Your sign-in could not be saved because the API key store cannot be written: no space left on device. Try again later.');
      expect(trips(gate, '/zot/auth/login')).toBe(1);
      expect(trips(gate, '/zot/auth/callback/')).toBe(1);
      expect(loginEvents(gate).map((line) => [line.identity, line.decision, line.reason])).toEqual([[null, 'deny', 'login-not-stored']]);
      expect((await browser.context.cookies(gate.url)).map((c) => c.name)).not.toContain('session');

      await rm(join(mnt, 'filler'));
      await page.goto(`${gate.url}/-/account`);
      // signed in at the IdP already: straight back, signed in here now
      expect(page.url()).toBe(`${gate.url}/-/account`);
      expect(await page.locator('.facts dd').first().innerText()).toBe('many');
    } finally {
      await page.close();
    }
  }, 60_000);
});

describe('a session that cannot be checked is a page, never a trip back to the IdP', () => {
  let gate: GateUnderTest;

  beforeAll(async () => {
    gate = await startOn();
  }, 30_000);

  afterAll(async () => {
    await gate?.stop();
  });

  it.each([
    ['the key store (where its groups are) does not read', 'apikeys.json', 'Your session cannot be checked because the API key store cannot be read. Try again later.'],
    ['the list of ended sessions does not read', 'revoked-sessions.json', 'Your session cannot be checked because the list of ended sessions cannot be read. Try again later.'],
  ])('%s: /-/account answers 503 with a page saying so', async (_name, file, text) => {
    const signedIn = await signIn(gate.url, 'many');
    expect(signedIn.status).toBe(200);
    const cookie = `session=${signedIn.cookies.get('session')!}`;
    const path = join(gate.config.dataDir, file);
    const good = await readFile(path, 'utf8').catch(() => null);
    await writeFile(path, '{ broken');
    try {
      // each store looks at its file again within a second
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const page = await send(gate.url, { path: '/-/account', headers: { cookie } });
      expect(page.status).toBe(503);
      expect(page.headers.location).toBeUndefined();
      expect(page.body).toContain('Your account cannot be shown right now');
      expect(page.body).toContain(text);
    } finally {
      if (good === null) await rm(path);
      else await writeFile(path, good);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await send(gate.url, { path: '/-/account', headers: { cookie } })).status).toBe(200);
  }, 30_000);
});
