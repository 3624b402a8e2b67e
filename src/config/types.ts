/** The configuration as the running gate uses it: validated, defaults applied, frozen. */
import type { ThrottleSettings } from '../policy/throttle.js';
import type { AccessControl, ImmutableTagRule } from '../policy/types.js';

export interface ClaimMapping {
  readonly username: string;
  readonly groups: string;
}

export interface OpenIdProvider {
  readonly id: string;
  readonly name: string;
  readonly issuer: string;
  readonly credentialsFile: string;
  readonly scopes: readonly string[];
  readonly claimMapping: ClaimMapping;
  /** an `email` username is accepted without `email_verified: true` (default false) */
  readonly allowUnverifiedEmail: boolean;
}

export interface TrustedIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUri: string | null;
  readonly claimMapping: ClaimMapping;
  readonly requiredScope: string | null;
  /** as OpenIdProvider's: an `email` username is accepted without `email_verified: true` */
  readonly allowUnverifiedEmail: boolean;
  /** how long after its `iat` a token is accepted, whatever its `exp` says (policy/token-age.ts) */
  readonly maxTokenAgeMs: number;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Config {
  /** absolute path of the file this came from */
  readonly source: string;
  readonly listen: { readonly host: string; readonly port: number };
  /** the public origin clients use, e.g. `https://registry.example.org`; null = taken from each request */
  readonly externalUrl: string | null;
  readonly upstream: { readonly origin: string; readonly timeoutMs: number };
  /** absolute */
  readonly dataDir: string;
  readonly log: { readonly level: LogLevel };
  readonly auth: {
    readonly realm: string;
    /** `bearer` (the Docker token flow, default) or `basic` (zot's plain challenge) */
    readonly challenge: 'bearer' | 'basic';
    readonly failDelayMs: number;
    /** failed-authentication throttling (policy/throttle.ts) */
    readonly throttle: ThrottleSettings;
    readonly apikeyMaxLifetimeMs: number | null;
    readonly sessionMaxAgeMs: number;
    readonly openid: {
      readonly providers: readonly OpenIdProvider[];
      readonly callbackAllowOrigins: readonly string[];
    } | null;
    readonly trustedIssuers: readonly TrustedIssuer[];
    /**
     * CIDRs (or single addresses) of the proxies in front: their X-Forwarded-For
     * and X-Forwarded-Proto are believed, and the client is the rightmost address
     * of the chain that is not one of them. Default: loopback.
     */
    readonly trustedProxies: readonly string[];
  };
  readonly accessControl: AccessControl;
  readonly immutableTags: readonly ImmutableTagRule[];
  readonly audit: {
    /** absolute; null = audit events go to the log stream only */
    readonly file: string | null;
  };
}
