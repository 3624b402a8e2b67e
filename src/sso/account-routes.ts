/**
 * `/-/account`: the signed-in user's own page (see account-page.ts) and its
 * forms: `POST /-/account/keys` creates an API key, `POST
 * /-/account/keys/revoke` revokes one of the user's own keys, `POST
 * /-/account/logout` ends the session. Every form must come from our own
 * origin and echo the session's CSRF token; anything else changes nothing.
 *
 * Registered as an encapsulated plugin: the urlencoded form parser it adds
 * (the gate has none at the root) applies to these routes only.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/types.js';
import { storeFailure } from '../identity/apikey-file.js';
import type { KeyStore } from '../identity/apikey-store.js';
import type { ApiKeyRecord } from '../identity/types.js';
import { keyCreated, keyRevoked, loggedOut } from '../observability/account-events.js';
import { noteAudit } from '../observability/observation.js';
import { groupsOf, isAdmin } from '../policy/access.js';
import { capabilities } from '../policy/capabilities.js';
import { checkKeyLabel, checkKeyScopes, keyExpiry, lifetimeExpiry } from '../policy/api-key.js';
import { accountPage, expiryChoices, signedOutPage, type AccountView, type NewKeyForm } from './account-page.js';
import { sameOriginForm } from '../policy/form-origin.js';
import { messagePage, sendPage } from './html.js';
import { browserSession } from '../http/authenticate.js';
import { publicOrigin } from '../http/origin.js';
import { endSessionUrl } from './login-routes.js';
import type { OidcClient } from './oidc-client.js';
import { revocationFailure } from './revoked-sessions.js';
import { sessionFailure, type Session, type Sessions } from './sessions.js';

export interface AccountDeps {
  readonly config: () => Config;
  readonly providers: ReadonlyMap<string, OidcClient>;
  readonly sessions: Sessions;
  readonly keys: KeyStore;
  readonly now: () => Date;
}

/** A new key as the create form asks for it, checked. */
export interface NewKeyRequest {
  readonly label: string;
  readonly expiresAt: Date | null;
  readonly scopes: readonly string[];
}

const ACCOUNT = '/-/account';
const FORM_LIMIT = 64 * 1024;

export async function accountPlugin(app: FastifyInstance, deps: AccountDeps): Promise<void> {
  // Only HTML forms post here: no JSON, no text, so no other body reaches these handlers.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT }, (_request, body, done) => {
    done(null, new URLSearchParams(body as string));
  });
  app.get(ACCOUNT, async (request, reply) => {
    const first = deps.config().auth.openid?.providers[0];
    if (first === undefined) {
      return page(reply, 404, messagePage('Sign-in is not set up', 'This registry has no OpenID provider configured, so nobody can sign in here. API keys are managed with the zot-gate apikey command.'));
    }
    // A GET may use the session: SameSite=Lax keeps it off cross-site subrequests, and a read changes nothing.
    let session: Session | null;
    try {
      session = await browserSession(request, deps.sessions);
    } catch (error) {
      // The session cannot be checked (sessions.ts read): say so. Sending the browser to sign in would bring it back here, in a loop.
      const failure = sessionFailure(error);
      if (failure === null) throw error;
      request.log.error({ problem: (error as Error).message }, 'session not checked');
      return page(reply.header('retry-after', '60'), 503, messagePage('Your account cannot be shown right now', `Your session cannot be checked because ${failure.problem}. Try again later.`, { href: ACCOUNT, label: 'Try again' }));
    }
    if (session === null) {
      return reply.redirect(`/zot/auth/login?provider=${encodeURIComponent(first.id)}&callback_ui=${encodeURIComponent(ACCOUNT)}`, 302);
    }
    return page(reply, 200, await render(request, session, {}));
  });

  app.post(`${ACCOUNT}/keys`, async (request, reply) => {
    const session = await formSession(request, reply);
    if (session === null) return reply;
    const body = formOf(request);
    const form: NewKeyForm = { label: body.get('label') ?? '', expires: body.get('expires') ?? '', scopes: body.get('scopes') ?? '' };
    const checked = readNewKey(form, deps.config().auth.apikeyMaxLifetimeMs, deps.now());
    if (typeof checked === 'string') return page(reply, 400, await render(request, session, { refused: { problem: checked, form } }));
    let created;
    try {
      created = await deps.keys.create({ owner: session.user, ...checked });
    } catch (error) {
      // The server's storage failed (a full or read-only disk, a bad store file); the page needs no store to say so.
      const failure = storeFailure(error);
      if (failure === null) throw error;
      request.log.error({ user: session.user, problem: (error as Error).message }, 'api key not created');
      return page(reply, 503, messagePage('No key was created', `The key could not be saved because ${failure.problem}. Try again later.`, { href: ACCOUNT, label: 'Back to your account' }));
    }
    const { key, record } = created;
    noteAudit(request, keyCreated(session.user, 'session', record));
    return page(reply, 201, await render(request, session, { created: { key, record } }));
  });

  app.post(`${ACCOUNT}/keys/revoke`, async (request, reply) => {
    const session = await formSession(request, reply);
    if (session === null) return reply;
    const id = formOf(request).get('id') ?? '';
    const mine = (await deps.keys.list(session.user)).some((record) => record.id === id);
    const revoked = mine ? await deps.keys.revokeTree(id) : [];
    if (revoked.length === 0) {
      return page(reply, 404, messagePage('No such key', 'You have no API key with that id; it may have been revoked already.', { href: ACCOUNT, label: 'Back to your account' }));
    }
    noteAudit(request, keyRevoked(session.user, 'session', id, revoked.slice(1)));
    return reply.redirect(ACCOUNT, 303);
  });

  app.post(`${ACCOUNT}/logout`, async (request, reply) => {
    const session = await formSession(request, reply);
    if (session === null) return reply;
    try {
      await deps.sessions.end(request, reply);
    } catch (error) {
      const failure = revocationFailure(error);
      if (failure === null) throw error;
      request.log.error({ user: session.user, problem: (error as Error).message }, 'session not revoked');
      return page(reply, 503, messagePage('You are still signed in', `Your session could not be ended because ${failure.problem}. Try again later.`, { href: ACCOUNT, label: 'Back to your account' }));
    }
    noteAudit(request, loggedOut(session));
    const endSession = endSessionUrl(deps, session.provider, publicOrigin(request, deps.config()));
    const provider = deps.providers.get(session.provider)?.provider.name ?? session.provider;
    return page(reply, 200, signedOutPage({ signIn: ACCOUNT, provider, ...(endSession === undefined ? {} : { endSession }) }));
  });

  /** The session behind a form post, or null once a refusal page has been sent. */
  async function formSession(request: FastifyRequest, reply: FastifyReply): Promise<Session | null> {
    const session = await browserSession(request, deps.sessions);
    if (session === null) {
      page(reply, 403, messagePage('Your session has ended', 'Sign in again; nothing was changed.', { href: ACCOUNT, label: 'Sign in' }));
      return null;
    }
    const form = { origin: request.headers.origin, expectedOrigin: publicOrigin(request, deps.config()), token: formOf(request).get('csrf'), sessionToken: session.csrf };
    if (!sameOriginForm(form)) {
      request.log.warn({ user: session.user, origin: request.headers.origin ?? null }, 'account form refused: foreign origin or bad csrf token');
      noteAudit(request, { event: 'refusal', identity: session.user, authMethod: 'session', decision: 'deny', reason: 'foreign-form' });
      page(reply, 403, messagePage('Form refused', 'This form did not come from your account page, or it is out of date. Nothing was changed.', { href: ACCOUNT, label: 'Back to your account' }));
      return null;
    }
    return session;
  }

  async function render(request: FastifyRequest, session: Session, extra: Pick<AccountView, 'created' | 'refused'>): Promise<string> {
    const config = deps.config();
    const ac = config.accessControl;
    const principal = { name: session.user, groups: session.groups };
    const now = deps.now();
    return accountPage({
      user: session.user,
      groups: groupsOf(ac, principal),
      admin: isAdmin(ac, principal),
      provider: deps.providers.get(session.provider)?.provider.name ?? session.provider,
      sessionExpiresAt: new Date(session.expiresAt * 1000),
      capabilities: capabilities(ac, principal),
      keys: (await deps.keys.list(session.user)).map((record) => effectiveExpiry(record, config.auth.apikeyMaxLifetimeMs)),
      csrf: session.csrf,
      host: new URL(publicOrigin(request, config)).host,
      expiryChoices: expiryChoices(config.auth.apikeyMaxLifetimeMs),
      now,
      ...extra,
    });
  }
}

/**
 * Checks the create form by the API-key rules (policy/api-key.ts): a label,
 * a lifetime within `maxLifetimeMs` (`never` only without a limit), and scopes
 * as a comma-separated list of valid globs. Returns the key to create, or the
 * problem in words for the form.
 */
export function readNewKey(form: NewKeyForm, maxLifetimeMs: number | null, now: Date): NewKeyRequest | string {
  const checked = checkKeyLabel(form.label);
  if (!checked.ok) return `Label: ${checked.problem}.`;
  const { label } = checked;
  // `never` is the longest allowed only where nothing bounds it; under a bound it is no lifetime on offer
  const lifetime = lifetimeExpiry(form.expires === 'never' && maxLifetimeMs === null ? null : form.expires, maxLifetimeMs, now);
  if (!lifetime.ok) return 'Expires after: choose one of the offered lifetimes.';
  const scopes = [...new Set(form.scopes.split(',').map((scope) => scope.trim()).filter((scope) => scope !== ''))];
  const checkedScopes = checkKeyScopes(scopes);
  if (!checkedScopes.ok) {
    return checkedScopes.reason === 'scope-count'
      ? `Repositories: ${checkedScopes.problem}.`
      : `Repositories: "${checkedScopes.scope}" is not a valid pattern (${checkedScopes.problem}).`;
  }
  return { label, expiresAt: lifetime.expiresAt, scopes };
}

/** A key stops working at its `keyExpiry` (policy/api-key.ts) even if its record says later: show that. */
function effectiveExpiry(record: ApiKeyRecord, maxLifetimeMs: number | null): ApiKeyRecord {
  const end = keyExpiry(record, maxLifetimeMs)?.toISOString() ?? null;
  return end === record.expiresAt ? record : { ...record, expiresAt: end };
}

function formOf(request: FastifyRequest): URLSearchParams {
  return request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
}

function page(reply: FastifyReply, status: number, html: string): FastifyReply {
  return sendPage(reply, status, html);
}
