/**
 * zot's API-key endpoints, with zot's JSON shapes and statuses
 * (pkg/api/routes.go GetAPIKeys, CreateAPIKey, RevokeAPIKey), so zot's UI and
 * scripts written for zot work against the gate:
 *
 * - `GET /zot/auth/apikey` → 200 `{"apiKeys":[APIKeyDetails…]}`, the caller's own keys;
 * - `POST /zot/auth/apikey` with `{label, scopes, expirationDate}` → 201
 *   APIKeyDetails followed by `apiKey`, the only time the key is shown;
 * - `DELETE /zot/auth/apikey?id=<uuid>` → 200, also for an id that is unknown
 *   or someone else's (zot deletes within the caller's own keys only).
 *
 * Unlike zot, the gate enforces scopes, so who may create which key is
 * decided by `decideKeyGrant` (policy/api-key.ts), and a caller authenticated by a key sees
 * and revokes only the keys within its own scopes (`scopesCover`); others
 * are as unknown to it as someone else's. A key made with a key names it as
 * its parent, and revoking a key revokes every key below it. Labels follow
 * `checkKeyLabel`, the rule of the account form and the CLI. Callers authenticate with an API key
 * (Basic), or with the browser session plus zot's UI header (http/authenticate.ts,
 * `KEY_MANAGEMENT_AUTH`); registry tokens and trusted JWTs are not resolved
 * here, so they get a 401.
 * Responses carry `Cache-Control: no-store`: one of them holds a new key.
 * Authentication runs in `onRequest`, before the body is read, as zot's
 * middleware does: strangers learn nothing about body limits. Failed
 * credentials are throttled as everywhere.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/types.js';
import { authenticate, basicChallenge, KEY_MANAGEMENT_AUTH, type AuthDeps } from '../http/authenticate.js';
import { sendOciError } from '../http/oci-error.js';
import { badRequest, bodyTooLarge, keyGrantRefused, KEYS_NEED_AUTHENTICATION, keyNotCreated, NOT_ACTIVE_KEY, NOT_JSON_MEDIA_TYPE } from '../http/respond.js';
import { storeFailure } from '../identity/apikey-file.js';
import type { KeyStore } from '../identity/apikey-store.js';
import type { ApiKeyRecord, Identity } from '../identity/types.js';
import { toZotApiKey } from '../identity/zot-shape.js';
import { keyCreated, keyRevoked } from '../observability/account-events.js';
import { noteAudit } from '../observability/observation.js';
import { GateError, type OciError } from '../errors.js';
import { checkKeyLabel, decideKeyGrant, keyExpiry, scopesCover, type Granter, type KeyRequest } from '../policy/api-key.js';
import { coverBudget } from '../policy/glob-cover.js';

/** zot's `constants.APIKeyPath`. */
export const APIKEY_PATH = '/zot/auth/apikey';
/** zot's `constants.MaxAPIKeyBodySize`: a create request's body, in bytes. */
export const MAX_APIKEY_BODY_SIZE = 8 * 1024;

export interface ApiKeyRouteOptions {
  readonly config: () => Config;
  readonly apiKeys: KeyStore;
  readonly now: () => Date;
  readonly auth: AuthDeps;
}

/** Who manages keys: a browser session (from zot's UI) or an API key. */
interface UserCaller {
  readonly kind: 'session' | 'apikey';
  readonly identity: Identity & { kind: 'user' };
}

/** zot's `APIKeyPayload`, checked. */
interface Payload extends KeyRequest {
  readonly label: string;
}

/** Registers the three routes; register it as its own (encapsulated) plugin. */
export async function apikeyRoutes(app: FastifyInstance, options: ApiKeyRouteOptions): Promise<void> {
  const callers = new WeakMap<FastifyRequest, UserCaller>();
  // JSON only: a cross-site form can send text/plain without a preflight,
  // application/json it cannot (zot reads any type; the gate is stricter).
  app.removeContentTypeParser('text/plain');
  const noStore = (reply: FastifyReply, status: number) =>
    reply.code(status).header('content-type', 'application/json').header('cache-control', 'no-store');

  app.addHook('onRequest', async (request, reply) => {
    const config = options.config();
    // Basic, as zot's API-key routes answer: these endpoints are not part of the token flow.
    const challenge = () => basicChallenge(config);
    const authenticated = await authenticate(request, reply, options.auth, config, KEY_MANAGEMENT_AUTH, challenge);
    if (authenticated === null) return reply;
    const { identity } = authenticated;
    if (identity.kind === 'anonymous') {
      return sendOciError(request, reply, KEYS_NEED_AUTHENTICATION, challenge());
    }
    callers.set(request, { kind: identity.method === 'session' ? 'session' : 'apikey', identity });
    return undefined;
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const refusal = bodyError(error);
    if (refusal === null) throw error; // the root handler renders everything else
    return sendOciError(request, reply, refusal);
  });

  app.get(APIKEY_PATH, async (request, reply) => {
    const caller = callerFor(request);
    const now = options.now();
    const keys = withinCaller(caller, await options.apiKeys.list(caller.identity.name));
    return noStore(reply, 200).send(JSON.stringify({ apiKeys: keys.map((record) => toZotApiKey(record, now, options.config().auth.apikeyMaxLifetimeMs)) }));
  });

  app.post(APIKEY_PATH, { bodyLimit: MAX_APIKEY_BODY_SIZE }, async (request, reply) => {
    const caller = callerFor(request);
    const payload = readPayload(request.body);
    if (typeof payload === 'string') return sendOciError(request, reply, badRequest(payload, 'malformed-payload'));
    const config = options.config();
    const now = options.now();
    const granter = await granterOf(caller, options.apiKeys, config.auth.apikeyMaxLifetimeMs);
    if (granter === null) return sendOciError(request, reply, NOT_ACTIVE_KEY);
    const grant = decideKeyGrant(granter, payload, { now, maxLifetimeMs: config.auth.apikeyMaxLifetimeMs });
    if (!grant.allow) return sendOciError(request, reply, keyGrantRefused(grant));
    // zot takes any label; the gate holds it to the rule the account form and the CLI follow
    const label = checkKeyLabel(payload.label);
    if (!label.ok) return sendOciError(request, reply, badRequest(`label: ${label.problem}`, label.reason));
    const user = caller.identity.name;
    // the key making this one is its parent: revoking it revokes this one (a session's keys have none)
    const parentId = caller.kind === 'apikey' ? caller.identity.keyId : undefined;
    let created;
    try {
      created = await options.apiKeys.create({ owner: user, label: label.label, expiresAt: grant.expiresAt, scopes: payload.scopes, ...(parentId === undefined ? {} : { parentId }) });
    } catch (error) {
      // revoked between authenticating and the write (checked under the store's lock)
      if (error instanceof GateError && error.code === 'APIKEY_PARENT_GONE') return sendOciError(request, reply, NOT_ACTIVE_KEY);
      // The server's storage failed (a full or read-only disk, a bad store file): a 503 the client may retry; the path stays in the log.
      const failure = storeFailure(error);
      if (failure === null) throw error;
      request.log.error({ user, problem: (error as Error).message }, 'api key not created');
      return sendOciError(request, reply, keyNotCreated(failure));
    }
    const { key, record } = created;
    request.gateReason = 'apikey-created';
    noteAudit(request, keyCreated(user, caller.identity.method, record));
    // zot embeds APIKeyDetails and appends `apiKey`: the same fields, in the same order.
    const body = { ...toZotApiKey(record, now, config.auth.apikeyMaxLifetimeMs, request.headers['user-agent'] ?? ''), apiKey: key };
    return noStore(reply, 201).send(JSON.stringify(body));
  });

  app.delete(APIKEY_PATH, async (request, reply) => {
    const caller = callerFor(request);
    const ids = new URLSearchParams((request.raw.url ?? '').split('?')[1] ?? '').getAll('id');
    if (ids.length !== 1) return sendOciError(request, reply, badRequest('exactly one "id" query parameter is required', 'malformed-query'));
    const id = ids[0] as string;
    const user = caller.identity.name;
    // Only within the caller's own keys, and a key's within its scopes: any other id is treated as unknown, as in zot.
    const owned = withinCaller(caller, (await options.apiKeys.list(user)).filter((record) => record.id === id)).length > 0;
    const revoked = owned ? await options.apiKeys.revokeTree(id) : [];
    if (revoked.length > 0) {
      request.gateReason = 'apikey-revoked';
      noteAudit(request, keyRevoked(user, caller.identity.method, id, revoked.slice(1)));
    }
    return noStore(reply, 200).send();
  });

  function callerFor(request: FastifyRequest): UserCaller {
    const caller = callers.get(request);
    // Unreachable while the onRequest hook is in place; fails closed on a wiring mistake.
    if (caller === undefined) throw new Error('apikey routes: request reached a handler without a caller');
    return caller;
  }
}

/**
 * The keys a caller may see and revoke, of its user's: a session all of them,
 * a key those whose scopes lie within its own (an unscoped key covers all).
 * One budget of glob-inclusion steps for the request: a key whose scopes are
 * too costly to compare with the caller's is left out, as one outside them.
 */
function withinCaller(caller: UserCaller, records: readonly ApiKeyRecord[]): ApiKeyRecord[] {
  if (caller.kind === 'session') return [...records];
  const held = caller.identity.scopes ?? [];
  const budget = coverBudget();
  return records.filter((record) => scopesCover(held, record.scopes, budget));
}

/** What limits the caller: a session only maxLifetime, a key its own scopes and expiry too. */
async function granterOf(caller: UserCaller, store: KeyStore, maxLifetimeMs: number | null): Promise<Granter | null> {
  if (caller.kind === 'session') return { kind: 'session' };
  const { name, keyId } = caller.identity;
  // null when the key was revoked since authenticating, or the credentials were no key at all
  const own = keyId === undefined ? undefined : (await store.list(name)).find((record) => record.id === keyId);
  if (own === undefined) return null;
  return { kind: 'apikey', scopes: own.scopes, expiresAt: keyExpiry(own, maxLifetimeMs) };
}

/**
 * zot's `APIKeyPayload` as Go's encoding/json would fill it: absent or null
 * fields are empty, unknown fields are ignored, a field of the wrong type is
 * an error. Returns the problem as text when the body is not one.
 */
function readPayload(body: unknown): Payload | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body must be a JSON object: {"label", "scopes", "expirationDate"}';
  const { label = null, scopes = null, expirationDate = null } = body as Record<string, unknown>;
  if (label !== null && typeof label !== 'string') return '"label" must be a string';
  if (scopes !== null && !(Array.isArray(scopes) && scopes.every((scope) => typeof scope === 'string'))) return '"scopes" must be a list of strings';
  if (expirationDate !== null && typeof expirationDate !== 'string') return '"expirationDate" must be an RFC 3339 string, or "" for the longest allowed';
  return { label: label ?? '', scopes: (scopes as string[] | null) ?? [], expirationDate: expirationDate ?? '' };
}

/** Fastify's body-reading errors, in the words of this endpoint; null for anything else. */
function bodyError(error: FastifyError): OciError | null {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return bodyTooLarge(MAX_APIKEY_BODY_SIZE);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return NOT_JSON_MEDIA_TYPE;
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return badRequest('the request body is not valid JSON', 'malformed-json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return badRequest('the request body does not match its Content-Length', 'malformed-body');
    default:
      return null;
  }
}
