/**
 * Self-test of the IdP and browser harness, real everything: oidc-provider v9
 * in a child process, Debian's Chromium through playwright-core, and a
 * minimal relying party written with openid-client v6 (the gate's own client
 * library) — authorization code + PKCE S256 + state + nonce.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loginAtIdp, logoutAtIdp, startBrowser } from './browser.js';
import type { Browser } from './browser.js';
import { CALLBACK_PATH, DEFAULT_AUDIENCE, LOGIN_SCOPES, startIdp } from './idp.js';
import type { Idp } from './idp.js';
import { freePort } from './ports.js';
import { makeTempDir, removeDir } from './tmp.js';

/** What the relying party saw at its callback. */
interface LoginResult {
  /** The ID token as issued, for id_token_hint. */
  readonly idTokenJwt: string;
  readonly idToken: client.IDToken;
  readonly userinfo: client.UserInfoResponse;
}

/**
 * A relying party on 127.0.0.1: `GET /login` redirects to the IdP with fresh
 * PKCE, state and nonce; the callback redeems the code, fetches userinfo and
 * hands the result to the test (and a 200 to the browser).
 */
interface RelyingParty {
  readonly loginUrl: string;
  /** The next callback's outcome. */
  nextLogin(): Promise<LoginResult>;
  /** RP-initiated logout, returning to this party's `/`. */
  logoutUrl(idTokenJwt: string): string;
  close(): Promise<void>;
}

async function discover(idp: Idp): Promise<client.Configuration> {
  // openid-client refuses an http:// issuer unless allowInsecureRequests is passed (tests only).
  return client.discovery(new URL(idp.issuer), idp.clientId, undefined, client.ClientSecretBasic(idp.clientSecret), {
    execute: [client.allowInsecureRequests],
  });
}

async function startRelyingParty(idp: Idp): Promise<RelyingParty> {
  const config = await discover(idp);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const pending = new Map<string, { verifier: string; nonce: string }>();
  let settle: { resolve(result: LoginResult): void; reject(error: unknown): void } | undefined;

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    if (url.pathname === '/login') {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      pending.set(state, { verifier, nonce });
      void client.calculatePKCECodeChallenge(verifier).then((challenge) => {
        const target = client.buildAuthorizationUrl(config, {
          redirect_uri: `${base}${CALLBACK_PATH}`,
          scope: LOGIN_SCOPES,
          code_challenge: challenge,
          code_challenge_method: 'S256',
          state,
          nonce,
        });
        res.writeHead(302, { location: target.href }).end();
      });
      return;
    }
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('signed out');
      return;
    }
    if (url.pathname !== CALLBACK_PATH) {
      res.writeHead(404).end();
      return;
    }
    const checks = pending.get(url.searchParams.get('state') ?? '');
    const outcome = (async (): Promise<LoginResult> => {
      if (checks === undefined) throw new Error(`callback with an unknown state: ${req.url}`);
      const tokens = await client.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: checks.verifier,
        expectedState: url.searchParams.get('state')!,
        expectedNonce: checks.nonce,
      });
      const idToken = tokens.claims()!;
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, idToken.sub);
      return { idTokenJwt: tokens.id_token!, idToken, userinfo };
    })();
    outcome.then(
      (result) => {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`logged in as ${result.idToken.sub}`);
        settle?.resolve(result);
      },
      (error: unknown) => {
        res.writeHead(500).end(String(error));
        settle?.reject(error);
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    loginUrl: `${base}/login`,
    nextLogin: () => new Promise((resolve, reject) => (settle = { resolve, reject })),
    logoutUrl: (idTokenJwt) => client.buildEndSessionUrl(config, { id_token_hint: idTokenJwt, post_logout_redirect_uri: `${base}/` }).href,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let idp: Idp;
let rp: RelyingParty;
let browser: Browser;
let workDir: string;

beforeAll(async () => {
  workDir = await makeTempDir('idp-test');
  [idp, browser] = await Promise.all([startIdp(), startBrowser()]);
  rp = await startRelyingParty(idp);
});
afterAll(async () => {
  await rp?.close();
  await browser?.close();
  await idp?.close();
  await removeDir(workDir);
});

describe('startIdp', () => {
  it('binds 127.0.0.1 and writes zot-format client credentials', async () => {
    expect(idp.issuer).toBe(`http://127.0.0.1:${idp.port}`);
    expect(JSON.parse(await readFile(idp.credentialsFile, 'utf8'))).toEqual({ clientid: 'zot-gate', clientsecret: idp.clientSecret });
  });

  it('advertises what the gate relies on', async () => {
    const metadata = (await discover(idp)).serverMetadata();
    expect({
      issuer: metadata.issuer,
      scopes: metadata.scopes_supported,
      pkce: metadata.code_challenge_methods_supported,
      grants: metadata.grant_types_supported,
      claims: metadata.claims_supported,
    }).toEqual({
      issuer: idp.issuer,
      scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
      pkce: ['S256'],
      grants: ['implicit', 'authorization_code', 'refresh_token', 'client_credentials'],
      claims: ['sub', 'preferred_username', 'name', 'email', 'email_verified', 'groups', 'sid', 'auth_time', 'iss'],
    });
  });
});

describe('authorization endpoint policy for the gate client', () => {
  const callback = `http://127.0.0.1:1234${CALLBACK_PATH}`;
  const pkce = { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' };
  const rows = [
    { name: 'any loopback port of the callback (RFC 8252 §7.3)', redirect: callback, extra: pkce, status: 303, to: '/interaction/' },
    { name: 'another path', redirect: 'http://127.0.0.1:1234/zot/auth/callback/evil', extra: pkce, status: 400, to: null },
    { name: 'another host', redirect: `http://localhost:1234${CALLBACK_PATH}`, extra: pkce, status: 400, to: null },
    { name: 'no PKCE', redirect: callback, extra: {}, status: 303, to: `${callback}?error=invalid_request` },
  ];
  it.each(rows)('$name → $status', async ({ redirect, extra, status, to }) => {
    const query = new URLSearchParams({ client_id: 'zot-gate', response_type: 'code', scope: LOGIN_SCOPES, redirect_uri: redirect, ...extra });
    const response = await fetch(`${idp.issuer}/auth?${query}`, { redirect: 'manual' });
    await response.body?.cancel();
    const location = response.headers.get('location');
    expect({ status: response.status, to: location === null ? null : location.slice(0, to?.length) }).toEqual({ status, to });
  });
});

describe('browser login through the dev interactions', () => {
  beforeEach(() => browser.context.clearCookies());

  const rows = [
    { user: 'alice', email: 'alice@example.org', groups: ['admins'] },
    { user: 'bob', email: 'bob@example.org', groups: ['artifact-workloads'] },
    { user: 'carol', email: 'carol@example.org', groups: [] },
  ];
  it.each(rows)('$user: one login form; ID token and userinfo carry username, email and groups', async ({ user, email, groups }) => {
    const page = await browser.newPage();
    const loaded: string[] = [];
    page.on('load', () => loaded.push(new URL(page.url()).pathname.replace(/^\/interaction\/.+/, '/interaction/:uid')));
    const login = rp.nextLogin();
    await page.goto(rp.loginUrl);
    await loginAtIdp(page, user);
    const { idToken, userinfo } = await login;
    expect(await page.textContent('body')).toBe(`logged in as ${user}`);
    expect({
      iss: idToken.iss,
      aud: idToken.aud,
      sub: idToken.sub,
      preferred_username: idToken['preferred_username'],
      email: idToken['email'],
      groups: idToken['groups'],
    }).toEqual({ iss: idp.issuer, aud: 'zot-gate', sub: user, preferred_username: user, email, groups });
    expect(userinfo).toEqual({ sub: user, preferred_username: user, email, email_verified: true, groups });
    expect(loaded).toEqual(['/interaction/:uid', CALLBACK_PATH]);
    await page.close();
  });

  it('refuses a login name outside the user table with access_denied at the client', async () => {
    const page = await browser.newPage();
    const login = rp.nextLogin().then(
      () => 'logged in',
      (error: unknown) => ({ error: (error as client.AuthorizationResponseError).error, description: (error as client.AuthorizationResponseError).error_description }),
    );
    await page.goto(rp.loginUrl);
    await loginAtIdp(page, 'mallory');
    expect(await login).toEqual({ error: 'access_denied', description: 'unknown user' });
    expect(new URL(page.url()).pathname).toBe(CALLBACK_PATH);
    await page.close();
  });

  it('a changed group reaches the next login without a restart', async () => {
    await idp.setUser('carol', { preferred_username: 'carol', groups: ['artifact-workloads'] });
    const page = await browser.newPage();
    const login = rp.nextLogin();
    await page.goto(rp.loginUrl);
    await loginAtIdp(page, 'carol');
    expect((await login).userinfo).toEqual({ sub: 'carol', preferred_username: 'carol', groups: ['artifact-workloads'] });
    await page.close();
  });

  it('an IdP session skips the form; RP-initiated logout ends it', async () => {
    const page = await browser.newPage();
    const first = rp.nextLogin();
    await page.goto(rp.loginUrl);
    await loginAtIdp(page, 'bob');
    const { idTokenJwt } = await first;

    const again = rp.nextLogin();
    await page.goto(rp.loginUrl);
    expect({ sub: (await again).idToken.sub, page: await page.textContent('body') }).toEqual({ sub: 'bob', page: 'logged in as bob' });
    await expect(loginAtIdp(page, 'alice')).rejects.toThrow("loginAtIdp(alice): not on the IdP's login page");

    await page.goto(rp.logoutUrl(idTokenJwt));
    expect(await page.title()).toBe('Logout Request');
    await logoutAtIdp(page);
    expect({ url: page.url(), page: await page.textContent('body') }).toEqual({ url: rp.loginUrl.replace(/login$/, ''), page: 'signed out' });
    await page.goto(rp.loginUrl);
    expect(await page.title()).toBe('Sign-in');
    await page.close();
  });

  it('screenshots a page as PNG', async () => {
    const page = await browser.newPage();
    await page.goto(rp.loginUrl);
    const path = join(workDir, 'shots', 'login.png');
    await browser.screenshot(page, path);
    expect((await readFile(path)).subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    await page.close();
  });
});

describe('clientCredentialsToken', () => {
  const rows = [
    {
      request: { clientId: 'ci-robot' },
      claims: { aud: DEFAULT_AUDIENCE, sub: 'ci-robot', client_id: 'ci-robot', scope: undefined, preferred_username: 'ci-robot', groups: ['artifact-workloads'] },
    },
    {
      request: { clientId: 'ci-robot', scope: 'registry:push', audience: 'https://other.example.org' },
      claims: { aud: 'https://other.example.org', sub: 'ci-robot', client_id: 'ci-robot', scope: 'registry:push', preferred_username: 'ci-robot', groups: ['artifact-workloads'] },
    },
    {
      // oidc-provider drops an unknown scope rather than refusing it: the token has no `scope`.
      request: { clientId: 'ci-robot', scope: 'admin' },
      claims: { aud: DEFAULT_AUDIENCE, sub: 'ci-robot', client_id: 'ci-robot', scope: undefined, preferred_username: 'ci-robot', groups: ['artifact-workloads'] },
    },
    {
      request: { clientId: 'outsider', scope: 'registry:pull registry:push' },
      claims: { aud: DEFAULT_AUDIENCE, sub: 'outsider', client_id: 'outsider', scope: 'registry:pull registry:push', preferred_username: 'outsider', groups: [] },
    },
  ];
  it.each(rows)('$request: an RFC 9068 JWT with the expected claims', async ({ request, claims }) => {
    const token = await idp.clientCredentialsToken(request);
    const jwks = createRemoteJWKSet(new URL(`${idp.issuer}/jwks`));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: idp.issuer, audience: claims.aud });
    expect({ alg: protectedHeader.alg, typ: protectedHeader.typ }).toEqual({ alg: 'RS256', typ: 'at+jwt' });
    expect({
      aud: payload.aud,
      sub: payload.sub,
      client_id: payload['client_id'],
      scope: payload['scope'],
      preferred_username: payload['preferred_username'],
      groups: payload['groups'],
    }).toEqual(claims);
    expect(payload.exp! - payload.iat!).toBe(600);
  });

  it('rejects an unknown service account before asking the IdP', async () => {
    await expect(idp.clientCredentialsToken({ clientId: 'nobody' })).rejects.toThrow('clientCredentialsToken: no service account nobody');
  });
});

describe('outage: stop and restart', () => {
  it('refuses connections while stopped; after restart the same keys verify an earlier token', async () => {
    const before = await idp.clientCredentialsToken();
    const kid = decodeProtectedHeader(before).kid;
    await idp.stop();
    const refused = await discover(idp).then(
      () => 'answered',
      (error: unknown) => ((error as Error).cause as { code?: string } | undefined)?.code,
    );
    expect(refused).toBe('ECONNREFUSED');

    await idp.restart();
    const metadata = (await discover(idp)).serverMetadata();
    const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri!));
    const { payload, protectedHeader } = await jwtVerify(before, jwks, { issuer: idp.issuer, audience: DEFAULT_AUDIENCE });
    expect({ kid: protectedHeader.kid, sub: payload.sub }).toEqual({ kid, sub: 'ci-robot' });
  });
});
