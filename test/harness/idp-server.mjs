// The test IdP: panva's oidc-provider (v9) on 127.0.0.1, run as a child
// process by idp.ts so that tests can stop and restart it. Usage:
//
//   node idp-server.mjs CONFIG.json
//
// CONFIG.json is written by idp.ts: { issuer, port, jwks, cookieKeys, clients,
// firstPartyClients, serviceAccounts, usersFile, everyEmailUnverified,
// defaultResource, resourceScopes }. The user table
// lives in its own file and is read on every lookup, so a test can change a
// user's groups without a restart (the next login picks them up).
import { readFileSync } from 'node:fs';
import { parse as parseForm } from 'node:querystring';
import { text } from 'node:stream/consumers';
import Provider, { interactionPolicy } from 'oidc-provider';

const configPath = process.argv[2];
if (!configPath) {
  console.error('usage: node idp-server.mjs CONFIG.json');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8'));

function findUser(login) {
  const users = JSON.parse(readFileSync(config.usersFile, 'utf8'));
  return Object.hasOwn(users, login) ? users[login] : undefined;
}

async function findAccount(_ctx, sub) {
  const user = findUser(sub);
  if (user === undefined) return undefined;
  return {
    accountId: sub,
    async claims() {
      // Authentik 2025.10+: its default email scope mapping says false for everyone.
      return { sub, ...user, ...(config.everyEmailUnverified ? { email_verified: false } : {}) };
    },
  };
}

// The gate is a first-party client: grant whatever OIDC scopes and claims it
// asks for, so a login never stops at the consent page. Other clients keep
// the default behaviour (an existing grant, else consent).
async function loadExistingGrant(ctx) {
  const { client, session, provider } = ctx.oidc;
  const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
  const existing = grantId ? await provider.Grant.find(grantId) : undefined;
  if (!config.firstPartyClients.includes(client.clientId)) return existing;

  const grant = existing ?? new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
  grant.addOIDCScope(ctx.oidc.requestParamOIDCScopes);
  grant.addOIDCClaims(ctx.oidc.requestParamClaims);
  await grant.save();
  return grant;
}

// RFC 8707: service accounts without a `resource` parameter get the registry
// as audience; interactive clients get none, so their access token stays
// opaque and valid at userinfo.
async function defaultResource(_ctx, client, oneOf) {
  if (oneOf) return oneOf;
  return client.grantTypes.includes('client_credentials') ? config.defaultResource : undefined;
}

// Every absolute URI is a resource server whose tokens are JWTs (RFC 9068)
// with `aud` set to the URI; only `resourceScopes` survive in `scope`.
async function getResourceServerInfo(_ctx, resourceIndicator) {
  return {
    audience: resourceIndicator,
    scope: config.resourceScopes,
    accessTokenFormat: 'jwt',
    accessTokenTTL: 600,
    jwt: { sign: { alg: 'RS256' } },
  };
}

async function extraTokenClaims(_ctx, token) {
  if (token.kind !== 'ClientCredentials') return undefined;
  return config.serviceAccounts[token.clientId];
}

// The gate client is `native` only so that its loopback redirect URI matches
// any port (RFC 8252 §7.3, see idp.ts). oidc-provider then forces consent on
// every login (RFC 8252 §8.6, against impersonating native apps); that
// threat does not apply to a confidential client, so drop the check.
const policy = interactionPolicy.base();
policy.get('consent').checks.remove('native_client_prompt');

const provider = new Provider(config.issuer, {
  interactions: { policy },
  clients: config.clients,
  jwks: config.jwks,
  // Cookies ignore ports (RFC 6265 §8.5): the gate on another port of
  // 127.0.0.1 receives these, so keep them clear of any name it might use.
  cookies: {
    keys: config.cookieKeys,
    names: { session: 'idp_session', interaction: 'idp_interaction', resume: 'idp_interaction_resume' },
  },
  findAccount,
  loadExistingGrant,
  extraTokenClaims,
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  // Without this, scope-requested claims go to userinfo only (OIDC Core §5.4).
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource,
      getResourceServerInfo,
      useGrantedResource: async () => false,
    },
  },
});

// Tests ask how many token requests reached the provider (a gate must not send
// one it knows will fail): every POST to the token endpoint is counted, and
// `GET /test/token-requests` answers `{"tokenRequests": n}` since this start.
let tokenRequests = 0;
provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path === '/test/token-requests') {
    ctx.body = { tokenRequests };
    return undefined;
  }
  if (ctx.method === 'POST' && ctx.path === '/token') tokenRequests += 1;
  return next();
});

// Dev interactions log in whatever name was typed. A name outside the user
// table would leave a session whose account cannot be found (a server_error
// later), so refuse it here as a real IdP would: access_denied to the client
// (RFC 6749 §4.1.2.1). The provider's own form parser reads the parsed body
// from req.body.
provider.use(async (ctx, next) => {
  if (ctx.method !== 'POST' || !/^\/interaction\/[^/]+$/.test(ctx.path)) return next();
  const form = parseForm(await text(ctx.req));
  ctx.req.body = form;
  if (form.prompt !== 'login' || (typeof form.login === 'string' && findUser(form.login) !== undefined)) return next();
  const refusal = { error: 'access_denied', error_description: 'unknown user' };
  ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, refusal, { mergeWithLastSubmission: false }));
  ctx.status = 303;
});

const server = provider.listen(config.port, '127.0.0.1');
server.once('listening', () => console.log(`idp listening on ${config.issuer}`));
server.once('error', (error) => {
  console.error(error.code === 'EADDRINUSE' ? 'address already in use' : error);
  process.exit(1);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
