/**
 * zot's browser login paths and behaviour: `GET /zot/auth/login?provider=…&callback_ui=…`,
 * `GET /zot/auth/callback/<provider>`, `POST /zot/auth/logout`. Authorization
 * code flow with PKCE (S256), state and nonce, all checked by openid-client.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/types.js';
import { isGateError } from '../errors.js';
import { addressOf, LOGIN_CALLBACK, type AuthThrottling } from '../http/auth-throttling.js';
import { sendOciError } from '../http/oci-error.js';
import { LOGOUT_CROSS_ORIGIN, PROVIDER_REPEATED, sessionNotEnded } from '../http/respond.js';
import { isZotUi, publicOrigin } from '../http/origin.js';
import { loggedIn, loggedOut, loginRefused, type IdentityRefusal, type LoginRefusal } from '../observability/account-events.js';
import { noteAudit } from '../observability/observation.js';
import { sameOriginWrite } from '../policy/form-origin.js';
import { safeCallbackUi } from '../policy/redirect.js';
import type { BindingDecision, Subject } from '../policy/subject-binding.js';
import { clientKey } from '../identity/auth-throttle.js';
import { loginIdentity } from '../identity/claims.js';
import { messagePage, sendPage } from './html.js';
import { refuseLoginIdentity } from './login-refusals.js';
import { OutstandingLogins } from './login-states.js';
import { loginProblem, type LoginStart, type OidcClient } from './oidc-client.js';
import { revocationFailure } from './revoked-sessions.js';
import { LOGIN_LIFETIME_MS, sessionFailure, type Sessions } from './sessions.js';

export interface LoginDeps {
  readonly config: () => Config;
  readonly providers: ReadonlyMap<string, OidcClient>;
  readonly sessions: Sessions;
  /**
   * Records the groups a login brought, so every API key of the user carries
   * them, and binds the username to the IdP account (`subject`) on its first
   * login; refused, with nothing written, when the username is bound to another.
   */
  readonly recordLogin: (user: string, groups: readonly string[], subject: Subject) => Promise<BindingDecision>;
  /** a refused attempt at a login (its state spent) is a failed authentication of the client's address */
  readonly throttle: AuthThrottling;
  readonly now: () => Date;
}

const START_AGAIN = { href: '/-/account', label: 'Sign in' } as const;
/** The page each refused callback gets (400). */
const REFUSAL_PAGES: Readonly<Record<Exclude<LoginRefusal, IdentityRefusal | 'login-not-stored'>, string>> = {
  'login-expired': messagePage('Login expired', 'This sign-in link is no longer valid. Start again.', START_AGAIN),
  'login-state-reused': messagePage('Login expired', 'This sign-in link was already used, or has expired. Start again.', START_AGAIN),
  'login-failed': messagePage('Login failed', 'The sign-in could not be completed. Start again.', START_AGAIN),
};

export function loginRoutes(app: FastifyInstance, deps: LoginDeps): void {
  // What makes a state single-use: the sealed cookie says the gate made it, this that nobody spent it yet.
  const outstanding = new OutstandingLogins({ lifetimeMs: LOGIN_LIFETIME_MS, now: () => deps.now().getTime() });

  app.get('/zot/auth/login', async (request, reply) => {
    const query = request.query as Record<string, string | string[] | undefined>;
    const named = oneValue(query.provider);
    if (!named.ok) {
      return sendOciError(request, reply, PROVIDER_REPEATED);
    }
    const providerId = named.value ?? [...deps.providers.keys()][0] ?? '';
    const oidc = deps.providers.get(providerId);
    if (oidc === undefined) return html(reply, 400, messagePage('Unknown login provider', `No login provider named "${providerId}" is configured.`));
    // A place among the address's logins under way, before anything is made or stored; freed if the login does not start.
    const claim = outstanding.claim(clientKey(addressOf(request)));
    if (!claim.allow) return tooManyLogins(request, reply, providerId, claim.retryAfter);
    let started = false;
    try {
      const config = deps.config();
      const origin = publicOrigin(request, config);
      let start: LoginStart;
      try {
        start = await oidc.beginLogin(`${origin}/zot/auth/callback/${providerId}`);
      } catch (error) {
        // The IdP cannot be discovered (or the credentials file read): nobody can sign in now.
        if (isGateError(error, 'OIDC_CLIENT')) throw error;
        return idpDown(request, reply, oidc, error);
      }
      const { url, state, nonce, verifier } = start;
      // Repeated with different values, it is doubtful: safeCallbackUi sends the browser to `/`.
      const callbackUiParam = oneValue(query.callback_ui);
      const callbackUi = safeCallbackUi(callbackUiParam.ok ? callbackUiParam.value : undefined, config.auth.openid?.callbackAllowOrigins ?? [], origin);
      await deps.sessions.startLogin(request, reply, { provider: providerId, state, nonce, verifier, callbackUi });
      outstanding.add(state, claim.place);
      started = true;
      return reply.redirect(url.href, 302);
    } finally {
      if (!started) outstanding.release(claim.place);
    }
  });

  app.get('/zot/auth/callback/:provider', async (request, reply) => {
    const { provider: providerId } = request.params as { provider: string };
    // A locked client learns nothing, and costs the IdP nothing.
    if (deps.throttle.refuseLocked(request, reply, LOGIN_CALLBACK) !== null) return reply;
    const oidc = deps.providers.get(providerId);
    const login = await deps.sessions.finishLogin(request, reply);
    // Not this login's callback (no login cookie, or one for another provider or login): no attempt at one, so not counted.
    const state = (request.query as Record<string, unknown>).state;
    if (oidc === undefined || login === null || login.provider !== providerId || state !== login.state) return refuse(request, reply, 'login-expired', providerId);
    // Spent before anything else, whatever follows: a replayed callback stops here, before any request to the IdP.
    if (!outstanding.spend(login.state)) return refuse(request, reply, 'login-state-reused', providerId);
    const config = deps.config();
    const origin = publicOrigin(request, config);
    try {
      const { claims, userinfo } = await oidc.finishLogin(new URL(`${origin}${request.raw.url ?? ''}`), login);
      // The account: `iss` and `sub` of the ID token, which openid-client checked (userinfo's `sub` must match it).
      const account: Subject = { issuer: claims.iss, subject: claims.sub };
      const who = loginIdentity(claims, userinfo, oidc.provider);
      if (!who.ok) return refuseLoginIdentity(request, reply, oidc.provider, account, who);
      const bound = await deps.recordLogin(who.username, who.groups, account);
      if (!bound.allow) return refuseLoginIdentity(request, reply, oidc.provider, account, { ok: false, reason: bound.reason, username: who.username, boundTo: bound.boundTo });
      await deps.sessions.issue(request, reply, { user: who.username, provider: providerId });
      deps.throttle.succeeded(request, LOGIN_CALLBACK, { kind: 'user', name: who.username, groups: who.groups, method: 'session' });
      noteAudit(request, loggedIn(who.username, who.groups, providerId));
      return reply.redirect(login.callbackUi, 302);
    } catch (error) {
      // The code exchange and userinfo carry IDP_TIMEOUT_SEC; this login's state is spent, so "try again" starts a new one.
      if (isGateError(error, 'IDP_UNAVAILABLE')) {
        return idpDown(request, reply, oidc, error, `/zot/auth/login?provider=${encodeURIComponent(providerId)}&callback_ui=${encodeURIComponent(login.callbackUi)}`);
      }
      const notStored = sessionFailure(error);
      if (notStored !== null) return loginNotStored(request, reply, providerId, notStored.problem, error);
      return refuse(request, reply, 'login-failed', providerId, error);
    }
  });

  /**
   * A refused callback: one log line (an expected failure: what went wrong,
   * never a stack), and a failed authentication for the throttle, which may
   * answer 429 instead of the page. An attempt at a login (its state spent)
   * is also an audit event and counts (policy/throttle.ts countsAsGuess);
   * `login-expired` is neither: any page can make a browser send one with an
   * `<img>`, so it must not lock the address, nor write the audit trail.
   */
  async function refuse(request: FastifyRequest, reply: FastifyReply, reason: keyof typeof REFUSAL_PAGES, provider: string, error?: unknown) {
    const line = { provider, reason, ...(error === undefined ? {} : loginProblem(error)) };
    if (reason === 'login-expired') request.log.info(line, 'login callback refused');
    else {
      request.log.warn(line, 'login callback refused');
      noteAudit(request, loginRefused(reason, provider));
    }
    const throttled = await deps.throttle.failed(request, reply, LOGIN_CALLBACK, reason, deps.config());
    return throttled ?? html(reply, 400, REFUSAL_PAGES[reason]);
  }

  /**
   * The IdP vouched for the user, but the login could not be stored (the key
   * store cannot be written, or a cookie would not fit in a browser): a page
   * saying so. Never a redirect: with no session, the next page would send
   * the browser back to the IdP, which sends it straight back here, in a loop.
   * Not the client's failure, so not counted by the throttle.
   */
  function loginNotStored(request: FastifyRequest, reply: FastifyReply, provider: string, problem: string, error: unknown) {
    request.log.error({ provider, reason: 'login-not-stored', problem: (error as Error).message }, 'login not stored');
    noteAudit(request, loginRefused('login-not-stored', provider));
    return html(
      reply.header('retry-after', '60'),
      503,
      messagePage('You are not signed in', `Your sign-in could not be saved because ${problem}. Try again later.`, { href: '/-/account', label: 'Try again' }),
    );
  }

  app.post('/zot/auth/logout', async (request, reply) => {
    // Not from another origin: SameSite=Lax sends the cookie on a form posted from any origin of the same site.
    if (!sameOriginWrite({ origin: request.headers.origin, expectedOrigin: publicOrigin(request, deps.config()), zotUi: isZotUi(request) })) {
      return sendOciError(request, reply, LOGOUT_CROSS_ORIGIN);
    }
    let session;
    try {
      session = await deps.sessions.end(request, reply);
    } catch (error) {
      // Not recorded means not ended: a copy of the cookie would still work, so no 200.
      const failure = revocationFailure(error);
      if (failure === null) throw error;
      request.log.error({ err: error }, 'session not revoked');
      return sendOciError(request, reply, sessionNotEnded(failure));
    }
    if (session !== null) noteAudit(request, loggedOut(session));
    return reply.code(200).send({ endSessionUrl: endSessionUrl(deps, session?.provider, publicOrigin(request, deps.config())) });
  });
}

/**
 * zot's logout answer: the IdP's end-session URL, or nothing when the IdP has
 * none or is not discovered yet; a logout never waits on the IdP (oidc-client.ts).
 */
export function endSessionUrl(deps: Pick<LoginDeps, 'providers'>, providerId: string | undefined, origin: string): string | undefined {
  const oidc = providerId === undefined ? undefined : deps.providers.get(providerId);
  return oidc?.endSessionUrl(`${origin}/-/account`)?.href;
}

/**
 * A query parameter as one value: the querystring parser turns a repeated one
 * into a list. The same value repeated is that value (zot's UI may send
 * `provider` twice); different values are refused, never one picked.
 */
function oneValue(value: string | readonly string[] | undefined): { readonly ok: true; readonly value: string | undefined } | { readonly ok: false } {
  if (typeof value === 'string' || value === undefined) return { ok: true, value };
  const [first] = value;
  return value.every((v) => v === first) ? { ok: true, value: first } : { ok: false };
}

function idpDown(request: FastifyRequest, reply: FastifyReply, oidc: OidcClient, error: unknown, retry = request.raw.url ?? '/zot/auth/login') {
  request.log.warn({ err: error, provider: oidc.provider.id }, 'identity provider unavailable');
  return html(
    reply.header('retry-after', '10'),
    503,
    messagePage(
      'Sign-in is unavailable',
      `${oidc.provider.name} cannot be reached right now, so nobody can sign in. Pulls and pushes with API keys keep working. Try again in a minute.`,
      { href: retry, label: 'Try again' },
    ),
  );
}

/**
 * One address has too many logins under way (policy/login-starts.ts): 429
 * with `Retry-After` (when its oldest lapses) and a page, like the other
 * refusals of a browser's login; one log line, no audit event (nobody tried
 * to sign in as anyone, and a flood must not write the audit trail).
 */
function tooManyLogins(request: FastifyRequest, reply: FastifyReply, provider: string, retryAfter: number) {
  request.log.info({ provider, reason: 'too-many-logins', retryAfter }, 'login start refused');
  const minutes = Math.ceil(retryAfter / 60);
  const wait = minutes === 1 ? '1 minute' : `${minutes} minutes`;
  return html(
    reply.header('retry-after', String(retryAfter)),
    429,
    messagePage('Too many sign-ins', `Too many sign-ins were started from your address and not finished. Finish one of them, or try again in ${wait}.`),
  );
}

function html(reply: FastifyReply, status: number, body: string) {
  return sendPage(reply, status, body);
}
