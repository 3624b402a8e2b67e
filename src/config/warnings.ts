/**
 * What a valid config may still get wrong: settings that work but that an
 * operator should decide on knowingly. `check-config` prints each as
 * `warning: subject: text` (exit 0 when there are no problems), and `serve`
 * logs them at start. Pure: the validated config in, the warnings out.
 */
import { subjectOf } from './problems.js';
import type { ClaimMapping, Config } from './types.js';

export interface ConfigWarning {
  /** a JS-like path into the file, as problems have */
  readonly subject: string;
  readonly text: string;
}

export function formatWarning(w: ConfigWarning): string {
  return `warning: ${w.subject}: ${w.text}`;
}

/** The guide that says how to set the IdP up, shipped with zot-gate. */
const GUIDE = 'docs/authentik.md';

/** Every warning, in the order of the file. */
export function configWarnings(config: Config): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  for (const provider of config.auth.openid?.providers ?? []) {
    warnings.push(...emailWarnings(['auth', 'openid', 'providers', provider.id], provider, 'login'));
  }
  config.auth.trustedIssuers.forEach((issuer, i) => warnings.push(...emailWarnings(['auth', 'trustedIssuers', i], issuer, 'token')));
  return warnings;
}

/**
 * The `email` username: it needs `email_verified: true` (identity/claims.ts),
 * which Authentik 2025.10 and later never send by default; and
 * `allowUnverifiedEmail` lets whoever can type in another's address act as
 * them (for a login, until that user's first sign-in binds the name).
 */
function emailWarnings(at: Array<string | number>, entry: { readonly claimMapping: ClaimMapping; readonly allowUnverifiedEmail: boolean }, what: 'login' | 'token'): ConfigWarning[] {
  const email = entry.claimMapping.username === 'email';
  const allowAt = subjectOf([...at, 'allowUnverifiedEmail']);
  if (!email) return entry.allowUnverifiedEmail ? [{ subject: allowAt, text: `has no effect: the username is the ${JSON.stringify(entry.claimMapping.username)} claim, not "email"` }] : [];
  if (entry.allowUnverifiedEmail) {
    const risk =
      what === 'login'
        ? 'whoever can set their email address at the IdP to another user\'s signs in as that user, if that user has not signed in yet (a username stays bound to the IdP account that first signed in with it)'
        : 'anyone who can get a token from this issuer carrying another user\'s email address acts as that user';
    return [{ subject: allowAt, text: `an email address the IdP has not verified is accepted as the username: ${risk}; use it only where users cannot change their own email address` }];
  }
  const ways =
    what === 'login'
      ? 'make the IdP send email_verified: true (in Authentik, a custom email scope mapping), or set claimMapping.username to "preferred_username" where users cannot change their username, or set allowUnverifiedEmail: true where users cannot change their email address'
      : 'make the issuer send email_verified: true, or map the username to another claim (claimMapping.username), or set allowUnverifiedEmail: true where nobody can get a token with another\'s address';
  return [
    {
      subject: subjectOf([...at, 'claimMapping', 'username']),
      text: `"email" is the username (the default), so a ${what} needs email_verified: true, and Authentik 2025.10 and later send false for every user by default. To proceed: ${ways}; see ${GUIDE}`,
    },
  ];
}
