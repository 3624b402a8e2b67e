/**
 * Logins the IdP vouched for that the gate refuses for who they name: no
 * username, a username unfit to store or print, an `email` username the IdP
 * does not call verified, a username bound to another IdP account. Each gets
 * a page that says what to do (403: the IdP answered; signing in again as the
 * same account will not help), a log line and an audit event, and changes
 * nothing: no session, no groups recorded.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OpenIdProvider } from '../config/types.js';
import { loginIdentityRefused } from '../observability/account-events.js';
import { noteAudit } from '../observability/observation.js';
import { isLocalSubject, type Subject } from '../policy/subject-binding.js';
import type { ClaimsRefusal } from '../identity/claims.js';
import { esc, layout, sendPage } from './html.js';

/** Why a login was refused for who it names, with what the page and the audit event say. */
export type IdentityRefused =
  | ClaimsRefusal
  | { readonly ok: false; readonly reason: 'username-bound-to-another-subject'; readonly username: string; readonly boundTo: Subject };

/** The deployment guide that says how to set the IdP up (shipped with zot-gate). */
const GUIDE = 'docs/authentik.md';
/** What Authentik's documented custom email scope mapping returns, verbatim. */
const AUTHENTIK_EMAIL_MAPPING = 'return {"email": request.user.email, "email_verified": True}';

/** Refuses the login: a 403 page, one warning line (no claim values but the subject), one audit event. */
export function refuseLoginIdentity(request: FastifyRequest, reply: FastifyReply, provider: OpenIdProvider, account: Subject, refused: IdentityRefused): FastifyReply {
  const username = refused.reason === 'email-unverified' || refused.reason === 'username-bound-to-another-subject' ? refused.username : undefined;
  const boundTo = refused.reason === 'username-bound-to-another-subject' ? refused.boundTo : undefined;
  request.log.warn({ provider: provider.id, reason: refused.reason, issuer: account.issuer, subject: account.subject }, 'login refused');
  noteAudit(request, loginIdentityRefused(refused.reason, provider.id, { ...account, ...(username === undefined ? {} : { username }), ...(boundTo === undefined ? {} : { boundTo }) }));
  return sendPage(reply, 403, layout('Login refused', `<header class="top"><h1>Login refused</h1></header><section>${explanation(provider, refused)}<p><a href="/-/account">Sign in again</a></p></section>`));
}

/** The page's text, escaped. */
function explanation(provider: OpenIdProvider, refused: IdentityRefused): string {
  const idp = esc(provider.name);
  switch (refused.reason) {
    case 'username-claim-missing':
      return `<p>${idp} did not say who you are (no ${esc(JSON.stringify(provider.claimMapping.username))} claim).</p>`;
    case 'username-invalid':
      return `<p>${idp} gave a username this registry does not accept: ${esc(refused.problem)}. Ask the administrator of ${idp} to change it.</p>`;
    case 'email-unverified':
      return unverified(idp, esc(refused.username));
    case 'username-bound-to-another-subject':
      if (isLocalSubject(refused.boundTo)) {
        return [
          `<p>The username ${esc(refused.username)} is a service account of this registry, set up by its operator for programs: nobody signs in as it, with ${idp} or otherwise.</p>`,
          '<p>If it should be yours, ask the operator of this registry to release the username:</p>',
          `<pre class="copy">zot-gate user release --user ${esc(refused.username)}</pre>`,
        ].join('');
      }
      return [
        `<p>The username ${esc(refused.username)} belongs to another account at ${idp}: the account that first signed in with it. A username stays with that account, so that nobody else can take it over by changing their own name or email address at ${idp}.</p>`,
        '<p>If that account is gone and yours replaces it, ask the operator of this registry to release the username:</p>',
        `<pre class="copy">zot-gate user release --user ${esc(refused.username)}</pre>`,
      ].join('');
  }
}

/** The three ways out of `email_verified: false`, for the user to pass on to whoever runs the registry. */
function unverified(idp: string, address: string): string {
  return [
    `<p>${idp} says the email address ${address} is not verified. This registry uses your email address as your username, and an address anyone can type in could be someone else's.</p>`,
    `<p>Verify your address at ${idp} and sign in again; if it is verified there already, ${idp} does not say so. The operator of this registry can fix that in one of three ways (${esc(GUIDE)} in zot-gate's documentation says how):</p>`,
    '<ul>',
    `<li>Make ${idp} send <code>email_verified: true</code>. In Authentik, whose default email mapping sends false for every user since 2025.10: a scope mapping with scope name <code>email</code> and the expression <code>${esc(AUTHENTIK_EMAIL_MAPPING)}</code>, selected on the provider instead of the default email mapping. Do this only where users cannot change their own email address.</li>`,
    `<li>Use another claim as the username: <code>${esc('"claimMapping": {"username": "preferred_username"}')}</code> on the provider in zot-gate's config, where users cannot change their own username.</li>`,
    `<li>Accept unverified addresses: <code>${esc('"allowUnverifiedEmail": true')}</code> on the provider in zot-gate's config, where users cannot change their own email address.</li>`,
    '</ul>',
  ].join('');
}
