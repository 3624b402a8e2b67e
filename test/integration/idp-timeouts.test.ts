/**
 * A slow or hung IdP (issue 8 item 4): every call to it carries a timeout —
 * OIDC discovery, the code exchange and userinfo at the callback
 * (IDP_TIMEOUT_SEC, 5 s), a trusted issuer's discovery and JWKS (5 s) — and
 * no request but a login waits on it. idp-outage.test.ts covers an IdP that
 * is down (connection refused) and comes back; this file covers one that
 * accepts connections and never answers.
 *
 * The IdPs here are fakes by necessity: the real test IdP (oidc-provider)
 * cannot be made to hang one endpoint on demand. `hung` accepts TCP and never
 * answers; `fake` answers discovery (and, for `userinfo-hangs`, the token
 * request) and holds the request named in its issuer path.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrustedIssuers } from '../../src/identity/trusted-issuers.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { basic, ociError, send, type RawResponse } from '../support/http.js';
import { OCI_MANIFEST, annotated } from '../support/registry-ops.js';
import { sealedSession } from '../support/session.js';
import { useStack } from '../support/stack.js';

const AUDIENCE = 'zot-gate-test';
const CLIENT_ID = 'zot-gate';
/** IDP_TIMEOUT_SEC and the trusted issuers' fetchTimeoutMs, with room for a loaded machine. */
const TIMEOUT = { atLeast: 4_900, below: 7_500 };
/** What "does not wait on the IdP" means here. */
const PROMPT_MS = 1_000;

/** Closes every connection a server holds, then the server. */
function closer(server: Server | HttpServer, sockets: Set<Socket>) {
  return async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
}

function track(server: Server | HttpServer): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return sockets;
}

async function listen(server: Server | HttpServer): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Accepts connections, reads whatever comes, never answers. */
async function startHungIdp(): Promise<{ url: string; stop(): Promise<void> }> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.resume();
  });
  const sockets = track(server);
  return { url: await listen(server), stop: closer(server, sockets) };
}

/**
 * Two issuers, `${url}/token-hangs` and `${url}/userinfo-hangs`: discovery
 * answers for both; the first never answers its token request; the second
 * issues an ID token (RS256, `nonce` taken from the code the test sends) and
 * never answers userinfo. A third, `${url}/slow-404`, is slow to say it has
 * no OpenID metadata and never answers for its RFC 8414 metadata.
 */
async function startFakeIdp(): Promise<{ url: string; stop(): Promise<void> }> {
  const { privateKey } = await generateKeyPair('RS256');
  let url = '';
  const server = createHttpServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const issuer = `${url}/${path.split('/')[1] ?? ''}`;
    // `/slow-404`: its OpenID metadata is a 404 after 3 s; its RFC 8414 metadata hangs
    if (path === '/slow-404/.well-known/openid-configuration') return void setTimeout(() => response.writeHead(404).end(), 3_000);
    if (path.endsWith('/.well-known/openid-configuration')) {
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          issuer,
          authorization_endpoint: `${issuer}/auth`,
          token_endpoint: `${issuer}/token`,
          userinfo_endpoint: `${issuer}/userinfo`,
          jwks_uri: `${issuer}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
        }),
      );
      return;
    }
    if (path === '/userinfo-hangs/token') return void answerToken(request, issuer, privateKey).then((body) => response.writeHead(200, { 'content-type': 'application/json' }).end(body));
    // `/token-hangs/token`, `/userinfo-hangs/userinfo`: held until the server stops
    request.resume();
  });
  const sockets = track(server);
  url = await listen(server);
  return { url, stop: closer(server, sockets) };
}

async function answerToken(request: IncomingMessage, issuer: string, key: CryptoKey): Promise<string> {
  let form = '';
  for await (const chunk of request) form += String(chunk);
  const nonce = new URLSearchParams(form).get('code') ?? '';
  const idToken = await new SignJWT({ nonce, preferred_username: 'alice' })
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(issuer)
    .setAudience(CLIENT_ID)
    .setSubject('alice')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key);
  return JSON.stringify({ access_token: 'opaque', token_type: 'Bearer', expires_in: 300, id_token: idToken });
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

const signInUnavailable = (name: string) => `${name} cannot be reached right now, so nobody can sign in.`;
const issuerUnavailable = { code: 'UNAVAILABLE', message: 'the issuer of this token cannot be reached to check it; retry later', detail: { reason: 'issuer-unavailable' } };

let hung: Awaited<ReturnType<typeof startHungIdp>>;
let fake: Awaited<ReturnType<typeof startFakeIdp>>;
let dir: string;
let signingKey: CryptoKey;

beforeAll(async () => {
  [hung, fake, dir] = await Promise.all([startHungIdp(), startFakeIdp(), makeTempDir('idp-timeouts')]);
  await writeFile(join(dir, 'credentials.json'), JSON.stringify({ clientid: CLIENT_ID, clientsecret: 'secret' }));
  ({ privateKey: signingKey } = await generateKeyPair('ES256'));
});

afterAll(async () => {
  await Promise.all([hung?.stop(), fake?.stop()]);
  if (dir !== undefined) await removeDir(dir);
});

const provider = (name: string, issuer: string) => ({ name, issuer, credentialsFile: join(dir, 'credentials.json'), claimMapping: { username: 'preferred_username' } });

const stack = useStack(() => ({
  accessControl: {
    repositories: { '**': { anonymousPolicy: ['read'], policies: [{ groups: ['pushers'], actions: ['read', 'create'] }] } },
    metrics: { anonymousPolicy: ['read'] },
  },
  extra: {
    auth: {
      failDelay: 0,
      openid: {
        providers: {
          oidc: provider('Hung IdP', hung.url),
          tokenhang: provider('Token-hang IdP', `${fake.url}/token-hangs`),
          userinfohang: provider('Userinfo-hang IdP', `${fake.url}/userinfo-hangs`),
        },
      },
      trustedIssuers: [
        // keys found by discovery (trusted-issuers.ts discoverJwksUri)
        { issuer: hung.url, audience: AUDIENCE, claimMapping: { username: 'sub' } },
        // keys at a configured jwksUri (jose's createRemoteJWKSet)
        { issuer: `${hung.url}/ci`, audience: AUDIENCE, jwksUri: `${hung.url}/ci/jwks`, claimMapping: { username: 'sub' } },
      ],
    },
  },
  users: { ci: ['pushers'] },
  image: { seed: 'idp-timeouts', tag: '1', pushTo: ['app/x:1'] },
}));

function jwt(issuer: string): Promise<string> {
  return new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer(issuer).setAudience(AUDIENCE).setSubject('ci-robot').setIssuedAt().setExpirationTime('5m').sign(signingKey);
}

/** Starts a login at `provider`: the login cookie and the state and nonce the gate put in the authorization URL. */
async function startLogin(providerId: string): Promise<{ cookie: string; state: string; nonce: string }> {
  const login = await send(stack.gate.url, { path: `/zot/auth/login?provider=${providerId}&callback_ui=/-/account` });
  expect(login.status, login.body).toBe(302);
  const location = new URL(login.headers.location!);
  const cookie = (login.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
  return { cookie, state: location.searchParams.get('state')!, nonce: location.searchParams.get('nonce')! };
}

function expectSignInUnavailable(response: RawResponse, name: string, retry: string): void {
  expect(response.status, response.body).toBe(503);
  expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(response.headers['retry-after']).toBe('10');
  expect(response.body).toContain(signInUnavailable(name));
  expect(response.body).toContain(`href="${retry.replaceAll('&', '&amp;')}"`);
}

describe('logins against a hung IdP end within IDP_TIMEOUT_SEC (5 s)', () => {
  it('discovery: the login answers 503, and the next one, inside the backoff, at once', async () => {
    const [first, ms] = await timed(() => send(stack.gate.url, { path: '/zot/auth/login?provider=oidc' }));
    expectSignInUnavailable(first, 'Hung IdP', '/zot/auth/login?provider=oidc');
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT.atLeast);
    expect(ms).toBeLessThan(TIMEOUT.below);
    const [again, againMs] = await timed(() => send(stack.gate.url, { path: '/zot/auth/login?provider=oidc' }));
    expect(again.status).toBe(503);
    expect(againMs).toBeLessThan(PROMPT_MS);
  });

  it.each([
    ['the code exchange', 'tokenhang', 'Token-hang IdP'],
    ['userinfo, after a good code exchange', 'userinfohang', 'Userinfo-hang IdP'],
  ])('%s: the callback answers 503, and "try again" starts a new login', async (_name, providerId, name) => {
    const { cookie, state, nonce } = await startLogin(providerId);
    const [callback, ms] = await timed(() => send(stack.gate.url, { path: `/zot/auth/callback/${providerId}?code=${nonce}&state=${state}`, headers: { cookie } }));
    expectSignInUnavailable(callback, name, `/zot/auth/login?provider=${providerId}&callback_ui=%2F-%2Faccount`);
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT.atLeast);
    expect(ms).toBeLessThan(TIMEOUT.below);
  });
});

describe('trusted JWTs from a hung issuer answer 503 within 5 s', () => {
  it.each([
    ['keys by discovery, on a registry request', () => hung.url, 'registry'],
    ['keys at jwksUri, at the token endpoint', () => `${hung.url}/ci`, 'token'],
  ] as const)('%s', async (_name, issuer, where) => {
    const token = await jwt(issuer());
    const call =
      where === 'registry'
        ? { path: '/v2/app/x/manifests/1', headers: { accept: OCI_MANIFEST, authorization: `Bearer ${token}` } }
        : { path: '/zot/auth/token?service=zot&scope=repository:app/x:pull', headers: { authorization: basic('ci-robot', token) } };
    const [answer, ms] = await timed(() => send(stack.gate.url, call));
    expect([answer.status, ociError(answer)]).toEqual([503, issuerUnavailable]);
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT.atLeast);
    expect(ms).toBeLessThan(TIMEOUT.below);
  });
});

describe("a trusted issuer's discovery", () => {
  it('has one 5 s deadline for both well-known paths: a slow 404 leaves the second less time', async () => {
    const issuer = `${fake.url}/slow-404`;
    const verifier = new TrustedIssuers([{ issuer, audience: AUDIENCE, jwksUri: null, claimMapping: { username: 'sub', groups: 'groups' }, requiredScope: null, allowUnverifiedEmail: false, maxTokenAgeMs: 86_400_000 }]);
    const token = await jwt(issuer);
    const [result, ms] = await timed(() => verifier.verify(token));
    expect(result).toEqual({ ok: false, reason: 'issuer-unavailable', detail: `${issuer}: The operation was aborted due to timeout` });
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT.atLeast);
    expect(ms).toBeLessThan(TIMEOUT.below);
  });
});

describe('while the IdP hangs, nothing but a login waits on it', () => {
  it('pulls, API-key pushes, tokens, account, logout, metrics and probes each answer within 1 s', async () => {
    // alice's groups as her login recorded them; the session holds none
    await stack.gate.store.setUserGroups('alice', ['pushers']);
    const session = await sealedSession(stack.gate.config.dataDir, { i: 'forged-by-the-test-0001', u: 'alice' });
    // Past the backoff of the tests above: these two ask the hung IdP again, and wait.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const waitingLogin = timed(() => send(stack.gate.url, { path: '/zot/auth/login?provider=oidc' }));
    const token = await jwt(hung.url);
    const waitingJwt = timed(() => send(stack.gate.url, { path: '/v2/app/x/manifests/1', headers: { accept: OCI_MANIFEST, authorization: `Bearer ${token}` } }));
    await new Promise((resolve) => setTimeout(resolve, 200));

    const manifest = annotated(stack.image.manifest, { pushed: 'while the IdP hangs' });
    const prompt: Array<[string, () => Promise<RawResponse>, number]> = [
      ['anonymous pull', () => send(stack.gate.url, { path: '/v2/app/x/manifests/1', headers: { accept: OCI_MANIFEST } }), 200],
      ['anonymous HEAD', () => send(stack.gate.url, { method: 'HEAD', path: '/v2/app/x/manifests/1', headers: { accept: OCI_MANIFEST } }), 200],
      ['API-key push', () => send(stack.gate.url, { method: 'PUT', path: '/v2/app/x/manifests/2', headers: { authorization: stack.auth.ci, 'content-type': OCI_MANIFEST }, body: manifest }), 201],
      ['API-key pull', () => send(stack.gate.url, { path: '/v2/app/x/manifests/2', headers: { accept: OCI_MANIFEST, authorization: stack.auth.ci } }), 200],
      ['token with an API key', () => send(stack.gate.url, { path: '/zot/auth/token?service=zot&scope=repository:app/x:push', headers: { authorization: stack.auth.ci } }), 200],
      ['anonymous token', () => send(stack.gate.url, { path: '/zot/auth/token?service=zot&scope=repository:app/x:pull' }), 200],
      ['account page of a session', () => send(stack.gate.url, { path: '/-/account', headers: { cookie: session } }), 200],
      ['session on a registry route (zot UI)', () => send(stack.gate.url, { path: '/v2/app/x/tags/list', headers: { cookie: session, 'x-zot-api-client': 'zot-ui' } }), 200],
      ['logout of a session', () => send(stack.gate.url, { method: 'POST', path: '/zot/auth/logout', headers: { cookie: session, 'x-zot-api-client': 'zot-ui' } }), 200],
      ["the gate's metrics", () => send(stack.gate.url, { path: '/-/metrics' }), 200],
      ['zot UI mgmt', () => send(stack.gate.url, { path: '/v2/_zot/ext/mgmt' }), 200],
      ['readyz', () => send(stack.gate.url, { path: '/-/readyz' }), 200],
      ['healthz', () => send(stack.gate.url, { path: '/-/healthz' }), 200],
    ];
    const answers: Array<[string, number, boolean]> = [];
    for (const [name, call] of prompt) {
      const [answer, ms] = await timed(call);
      answers.push([name, answer.status, ms < PROMPT_MS]);
    }
    expect(answers).toEqual(prompt.map(([name, , status]) => [name, status, true]));

    const [[login, loginMs], [pull, pullMs]] = await Promise.all([waitingLogin, waitingJwt]);
    expect([login.status, pull.status]).toEqual([503, 503]);
    expect(Math.min(loginMs, pullMs)).toBeGreaterThanOrEqual(TIMEOUT.atLeast);
    expect(Math.max(loginMs, pullMs)).toBeLessThan(TIMEOUT.below);
  });

  it('logout says nothing of the IdP it has not discovered, and readiness reports without asking', async () => {
    const session = await sealedSession(stack.gate.config.dataDir, { i: 'forged-by-the-test-0002', u: 'alice', g: [] });
    const logout = await send(stack.gate.url, { method: 'POST', path: '/zot/auth/logout', headers: { cookie: session, 'x-zot-api-client': 'zot-ui' } });
    expect([logout.status, logout.json()]).toEqual([200, {}]);
    const ready = await send(stack.gate.url, { path: '/-/readyz' });
    expect(ready.json()).toEqual({ status: 'ready', upstream: 'ok', idp: { oidc: 'unavailable', tokenhang: 'ready', userinfohang: 'ready' } });
  });
});
