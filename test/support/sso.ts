/**
 * The gate's `auth` config for signing in with the test IdP
 * (test/harness/idp.ts): one provider `oidc`, shown as "Test IdP", whose
 * usernames are the `preferred_username` claim (alice, bob, carol), not the
 * default `email`. Suites about the default mapping write their own.
 */

/** Where the provider is: a running test IdP, or any issuer URL with its credentials file. */
export interface ProviderAt {
  readonly issuer: string;
  readonly credentialsFile: string;
}

/** The `auth.openid.providers.oidc` entry for `idp`; `over` adds or replaces fields. */
export function testIdpProvider(idp: ProviderAt, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'Test IdP', issuer: idp.issuer, credentialsFile: idp.credentialsFile, claimMapping: { username: 'preferred_username' }, ...over };
}

/** The whole `auth` block: no fail delay, `more` beside it (throttle, session, apikey…), and the test IdP as `oidc`. */
export function testIdpAuth(idp: ProviderAt, more: Record<string, unknown> = {}): Record<string, unknown> {
  return { failDelay: 0, ...more, openid: { providers: { oidc: testIdpProvider(idp) } } };
}
