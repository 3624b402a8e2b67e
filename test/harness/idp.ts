import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import { freePort } from './ports.js';
import { startProcess, waitForUrl } from './process.js';
import type { ManagedProcess } from './process.js';
import { makeTempDir, removeDir } from './tmp.js';

/**
 * A user of the test IdP, as OIDC claims (`sub` is the login name).
 * `groups` is released under the `groups` scope, `email` under `email`,
 * `preferred_username` under `profile`; all of them reach the ID token too.
 */
export interface IdpUser {
  readonly preferred_username: string;
  readonly email?: string;
  readonly email_verified?: boolean;
  readonly groups: readonly string[];
}

/** A client_credentials client (keyless CI) and the claims its access tokens carry. */
export interface ServiceAccount {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly claims: { readonly preferred_username: string; readonly groups: readonly string[] };
}

/** A running oidc-provider v9 on 127.0.0.1 (a child process), see {@link startIdp}. */
export interface Idp {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly issuer: string;
  readonly port: number;
  /** The gate's confidential client: `zot-gate`. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** zot's `{"clientid","clientsecret"}` file for the gate's client; it outlives {@link Idp.stop}. */
  readonly credentialsFile: string;
  /** The login names of the dev login form and their claims (alice, bob, carol). */
  readonly users: Readonly<Record<string, IdpUser>>;
  /** `ci-robot` and `outsider`. */
  readonly serviceAccounts: Readonly<Record<string, ServiceAccount>>;
  /**
   * Performs a real client_credentials request (client_secret_basic) and
   * returns the JWT access token. `clientId` defaults to `ci-robot`,
   * `audience` (the RFC 8707 `resource`) to {@link DEFAULT_AUDIENCE}; a
   * `scope` outside {@link RESOURCE_SCOPES} yields a token without `scope`.
   */
  clientCredentialsToken(opts?: { clientId?: string; scope?: string; audience?: string }): Promise<string>;
  /** How many requests reached the token endpoint since the provider last started (client_credentials ones included). */
  tokenRequests(): Promise<number>;
  /** Replaces (or adds) a user; the next login of that user gets the new claims, no restart needed. */
  setUser(login: string, user: IdpUser): Promise<void>;
  /** Stops the provider by PID (an IdP outage); state and files are kept for {@link Idp.restart}. */
  stop(): Promise<void>;
  /**
   * Starts the provider again (stopping it first if it runs): same port, keys,
   * cookie keys and clients, so tokens issued before still verify. Sessions,
   * grants and opaque tokens are lost: the provider stores them in memory.
   */
  restart(): Promise<void>;
  /**
   * Starts the provider again as {@link Idp.restart} does, but calling itself
   * `issuer` (discovery, `iss` of its tokens and of its authorization
   * responses) while listening on the same port with the same keys, clients
   * and secrets: the one real way to make a relying party that discovered
   * the old name receive tokens from an issuer it does not expect.
   * {@link Idp.restart} goes back to the original name.
   */
  restartAs(issuer: string): Promise<void>;
  /** Stops the provider and removes its files. */
  close(): Promise<void>;
}

export interface IdpOptions {
  /** Default: a free port. */
  readonly port?: number;
  /**
   * The gate client's redirect URIs. The client is registered with
   * `application_type: native`, so the port of a loopback URI is not
   * compared (RFC 8252 §7.3): the default accepts the gate's callback on any
   * port of 127.0.0.1.
   */
  readonly redirectUris?: readonly string[];
  /** Default: `http://127.0.0.1/` on any port. */
  readonly postLogoutRedirectUris?: readonly string[];
  /**
   * Send `email_verified: false` for every user, whatever the user table says:
   * what Authentik's default email scope mapping does since 2025.10. Default false.
   */
  readonly everyEmailUnverified?: boolean;
}

/** The `aud` of client_credentials tokens when no audience is asked for. */
export const DEFAULT_AUDIENCE = 'https://registry.example.org';
/** The scopes the resource servers know; others are dropped from access tokens. */
export const RESOURCE_SCOPES = ['registry:pull', 'registry:push'] as const;
/** The gate's callback path, as zot names it for provider `oidc`. */
export const CALLBACK_PATH = '/zot/auth/callback/oidc';
/** The scopes the gate asks for at login. */
export const LOGIN_SCOPES = 'openid profile email groups';

export const IDP_USERS: Readonly<Record<string, IdpUser>> = Object.freeze({
  alice: { preferred_username: 'alice', email: 'alice@example.org', email_verified: true, groups: ['admins'] },
  bob: { preferred_username: 'bob', email: 'bob@example.org', email_verified: true, groups: ['artifact-workloads'] },
  carol: { preferred_username: 'carol', email: 'carol@example.org', email_verified: true, groups: [] },
});

const GATE_CLIENT_ID = 'zot-gate';
const SERVER_SCRIPT = fileURLToPath(new URL('./idp-server.mjs', import.meta.url));
// Another process can take the port between freePort() and the provider's bind.
const ATTEMPTS = 3;

/**
 * Starts panva's oidc-provider (v9) as a child process bound to 127.0.0.1 and
 * waits until discovery answers 200. Logins go through its dev interactions;
 * see `loginAtIdp` in browser.ts for the form they show.
 */
export async function startIdp(opts: IdpOptions = {}): Promise<Idp> {
  const dir = await makeTempDir('idp');
  const files = { config: join(dir, 'config.json'), users: join(dir, 'users.json'), credentials: join(dir, 'oidc-credentials.json') };
  try {
    const users: Record<string, IdpUser> = { ...IDP_USERS };
    const clientSecret = secret();
    const serviceAccounts = makeServiceAccounts();
    const config = await providerConfig(opts, clientSecret, serviceAccounts, files.users);
    await writeFile(files.users, JSON.stringify(users));
    await writeFile(files.credentials, JSON.stringify({ clientid: GATE_CLIENT_ID, clientsecret: clientSecret }));
    const started = await startOnSomePort(opts.port, config, files.config);
    const { port, issuer } = started;
    let proc: ManagedProcess | undefined = started.proc;

    const stop = async (): Promise<void> => {
      await proc?.stop();
      proc = undefined;
    };
    return {
      issuer,
      port,
      clientId: GATE_CLIENT_ID,
      clientSecret,
      credentialsFile: files.credentials,
      users,
      serviceAccounts,
      clientCredentialsToken: (request = {}) => clientCredentialsToken(issuer, serviceAccounts, request),
      async tokenRequests() {
        const response = await fetch(`${issuer}/test/token-requests`);
        return ((await response.json()) as { tokenRequests: number }).tokenRequests;
      },
      async setUser(login, user) {
        users[login] = user;
        await writeFile(files.users, JSON.stringify(users));
      },
      stop,
      async restart() {
        await stop();
        proc = await spawnProvider(files.config, issuer);
      },
      async restartAs(otherIssuer) {
        await stop();
        const configured = await readFile(files.config, 'utf8');
        await writeFile(files.config, JSON.stringify({ ...(JSON.parse(configured) as object), issuer: otherIssuer }));
        try {
          proc = await spawnProvider(files.config, otherIssuer);
        } finally {
          await writeFile(files.config, configured);
        }
      },
      async close() {
        await stop();
        await removeDir(dir);
      },
    };
  } catch (error) {
    await removeDir(dir);
    throw error;
  }
}

async function startOnSomePort(
  fixedPort: number | undefined,
  config: ProviderConfig,
  configFile: string,
): Promise<{ port: number; issuer: string; proc: ManagedProcess }> {
  for (let attempt = 1; ; attempt++) {
    const port = fixedPort ?? (await freePort());
    const issuer = `http://127.0.0.1:${port}`;
    await writeFile(configFile, JSON.stringify({ ...config, issuer, port }));
    try {
      return { port, issuer, proc: await spawnProvider(configFile, issuer) };
    } catch (error) {
      const lost = error instanceof Error && error.message.includes('address already in use');
      if (fixedPort === undefined && attempt < ATTEMPTS && lost) continue;
      throw error;
    }
  }
}

async function spawnProvider(configFile: string, issuer: string): Promise<ManagedProcess> {
  const proc = await startProcess(process.execPath, [SERVER_SCRIPT, configFile]);
  try {
    await waitForUrl(proc, `${issuer}/.well-known/openid-configuration`, { timeoutMs: 15_000 });
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return proc;
}

/** What idp-server.mjs reads, less `issuer` and `port`. */
type ProviderConfig = Awaited<ReturnType<typeof providerConfig>>;

async function providerConfig(opts: IdpOptions, clientSecret: string, serviceAccounts: Record<string, ServiceAccount>, usersFile: string) {
  const gate = {
    client_id: GATE_CLIENT_ID,
    client_secret: clientSecret,
    application_type: 'native',
    redirect_uris: opts.redirectUris ?? [`http://127.0.0.1${CALLBACK_PATH}`],
    post_logout_redirect_uris: opts.postLogoutRedirectUris ?? ['http://127.0.0.1/'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  };
  const robots = Object.values(serviceAccounts).map((account) => ({
    client_id: account.clientId,
    client_secret: account.clientSecret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  }));
  return {
    jwks: { keys: await signingKeys() },
    cookieKeys: [secret()],
    clients: [gate, ...robots],
    firstPartyClients: [GATE_CLIENT_ID],
    serviceAccounts: Object.fromEntries(Object.values(serviceAccounts).map((account) => [account.clientId, account.claims])),
    usersFile,
    everyEmailUnverified: opts.everyEmailUnverified === true,
    defaultResource: DEFAULT_AUDIENCE,
    resourceScopes: RESOURCE_SCOPES.join(' '),
  };
}

function makeServiceAccounts(): Record<string, ServiceAccount> {
  const account = (clientId: string, groups: string[]): ServiceAccount => ({
    clientId,
    clientSecret: secret(),
    claims: { preferred_username: clientId, groups },
  });
  return { 'ci-robot': account('ci-robot', ['artifact-workloads']), outsider: account('outsider', []) };
}

/** RS256 first (the provider's default for ID tokens and JWT access tokens), then ES256. */
async function signingKeys(): Promise<JWK[]> {
  const keys: JWK[] = [];
  for (const alg of ['RS256', 'ES256']) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    keys.push({ ...(await exportJWK(privateKey)), alg, use: 'sig', kid: `${alg.toLowerCase()}-${secret(6)}` });
  }
  return keys;
}

async function clientCredentialsToken(
  issuer: string,
  serviceAccounts: Readonly<Record<string, ServiceAccount>>,
  request: { clientId?: string; scope?: string; audience?: string },
): Promise<string> {
  const clientId = request.clientId ?? 'ci-robot';
  const account = serviceAccounts[clientId];
  if (account === undefined) throw new Error(`clientCredentialsToken: no service account ${clientId}`);
  const form = new URLSearchParams({ grant_type: 'client_credentials', resource: request.audience ?? DEFAULT_AUDIENCE });
  if (request.scope !== undefined) form.set('scope', request.scope);
  // RFC 6749 §2.3.1: client_secret_basic form-encodes id and secret before base64.
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(account.clientSecret)}`).toString('base64');
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  });
  const body = (await response.json()) as { access_token?: unknown };
  if (response.status !== 200 || typeof body.access_token !== 'string') {
    throw new Error(`clientCredentialsToken(${clientId}): ${response.status} ${JSON.stringify(body)}`);
  }
  return body.access_token;
}

function secret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}
