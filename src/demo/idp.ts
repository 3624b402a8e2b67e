/**
 * The demo's identity provider: panva's oidc-provider (a dev dependency) with
 * its development login form, run by the test suite's `idp-server.mjs` as a
 * child process on 127.0.0.1.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GateError, isGateError } from '../errors.js';
import { logTail, startDaemon, waitUntilReady, type Daemon } from './daemon.js';

/** The people who can sign in (with any password), as OIDC claims. */
export const DEMO_USERS = Object.freeze({
  alice: { preferred_username: 'alice', email: 'alice@example.org', email_verified: true, groups: ['admins'] },
  bob: { preferred_username: 'bob', email: 'bob@example.org', email_verified: true, groups: ['artifact-workloads'] },
});

export interface DemoIdp {
  /** `http://127.0.0.1:PORT` */
  readonly issuer: string;
  readonly daemon: Daemon;
  /** zot's `{"clientid","clientsecret"}` file for the gate's client */
  readonly credentialsFile: string;
}

const CLIENT_ID = 'zot-gate';

/**
 * Writes the provider's config, users and the gate's client credentials into
 * `workDir`, starts `node <serverScript> CONFIG` on `port` and waits for
 * discovery to answer. `onStarted` learns the child before it is ready.
 */
export async function startIdp(workDir: string, port: number, serverScript: string, onStarted: (daemon: Daemon) => Promise<void>): Promise<DemoIdp> {
  if (!existsSync(serverScript)) {
    throw new GateError('DEMO_START_FAILED', `the development IdP needs the source checkout: ${serverScript} is missing`);
  }
  const issuer = `http://127.0.0.1:${port}`;
  const files = { config: join(workDir, 'idp.json'), users: join(workDir, 'idp-users.json'), credentials: join(workDir, 'oidc-credentials.json') };
  const clientSecret = secret();
  await writeFile(files.users, JSON.stringify(DEMO_USERS));
  await writeFile(files.credentials, JSON.stringify({ clientid: CLIENT_ID, clientsecret: clientSecret }), { mode: 0o600 });
  await writeFile(files.config, JSON.stringify(providerConfig(issuer, port, clientSecret, files.users)), { mode: 0o600 });
  const daemon = await startDaemon('the IdP', process.execPath, [serverScript, files.config], join(workDir, 'idp.log'));
  await onStarted(daemon);
  try {
    await waitUntilReady(daemon, `${issuer}/.well-known/openid-configuration`);
  } catch (error) {
    if (isGateError(error, 'DEMO_START_FAILED') && /Cannot find (package|module) 'oidc-provider'/.test(logTail(daemon.logFile))) {
      throw new GateError('DEMO_START_FAILED', 'the development IdP needs oidc-provider, a dev dependency: run `npm ci` (not `npm ci --omit=dev`)', { cause: error });
    }
    throw error;
  }
  return { issuer, daemon, credentialsFile: files.credentials };
}

/** What idp-server.mjs reads (see its header). */
function providerConfig(issuer: string, port: number, clientSecret: string, usersFile: string) {
  const gate = {
    client_id: CLIENT_ID,
    client_secret: clientSecret,
    // `native` so that a loopback redirect URI matches on any port (RFC 8252 §7.3): the gate's port is picked later.
    application_type: 'native',
    redirect_uris: ['http://127.0.0.1/zot/auth/callback/oidc', 'http://localhost/zot/auth/callback/oidc'],
    post_logout_redirect_uris: ['http://127.0.0.1/-/account', 'http://localhost/-/account'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  };
  return {
    issuer,
    port,
    jwks: { keys: [signingKey()] },
    cookieKeys: [secret()],
    clients: [gate],
    firstPartyClients: [CLIENT_ID],
    // keyless CI is not part of the demo: no client_credentials clients
    serviceAccounts: {},
    usersFile,
    defaultResource: issuer,
    resourceScopes: '',
  };
}

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: `demo-${secret(6)}` };
}

function secret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}
