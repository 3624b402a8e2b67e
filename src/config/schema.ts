/**
 * The configuration file's schema: the one source of the file's type. Names
 * and meanings are zot's wherever zot has one (`accessControl` is zot's block
 * verbatim, `auth.openid` mirrors zot's `http.auth.openid`).
 */
import { Type, type Static } from '@sinclair/typebox';

const Strings = Type.Array(Type.String());
const strict = { additionalProperties: false } as const;

const PolicySchema = Type.Object(
  {
    users: Type.Optional(Strings),
    groups: Type.Optional(Strings),
    actions: Strings,
    // zot's CEL conditions: recognised so the validator can refuse them by name
    conditions: Type.Optional(Type.Array(Type.Unknown())),
  },
  strict,
);

const PolicyGroupSchema = Type.Object(
  {
    policies: Type.Optional(Type.Array(PolicySchema)),
    defaultPolicy: Type.Optional(Strings),
    anonymousPolicy: Type.Optional(Strings),
  },
  strict,
);

const AccessControlSchema = Type.Object(
  {
    repositories: Type.Record(Type.String(), PolicyGroupSchema),
    adminPolicy: Type.Optional(PolicySchema),
    groups: Type.Optional(Type.Record(Type.String(), Type.Object({ users: Type.Optional(Strings) }, strict))),
    metrics: Type.Optional(
      Type.Object({ users: Type.Optional(Strings), anonymousPolicy: Type.Optional(Strings) }, strict),
    ),
  },
  strict,
);

const ClaimMappingSchema = Type.Object(
  { username: Type.Optional(Type.String()), groups: Type.Optional(Type.String()) },
  strict,
);

const OpenIdProviderSchema = Type.Object(
  {
    name: Type.Optional(Type.String()),
    issuer: Type.String(),
    credentialsFile: Type.String(),
    scopes: Type.Optional(Strings),
    claimMapping: Type.Optional(ClaimMappingSchema),
    // zot-gate's own: accept an `email` username without `email_verified: true` (identity/claims.ts)
    allowUnverifiedEmail: Type.Optional(Type.Boolean()),
  },
  strict,
);

const TrustedIssuerSchema = Type.Object(
  {
    issuer: Type.String(),
    audience: Type.String(),
    jwksUri: Type.Optional(Type.String()),
    claimMapping: ClaimMappingSchema,
    requiredScope: Type.Optional(Type.String()),
    allowUnverifiedEmail: Type.Optional(Type.Boolean()),
    // zot-gate's own: how long after its `iat` a token is accepted, whatever its `exp` says (default 24h)
    maxTokenAge: Type.Optional(Type.String()),
  },
  strict,
);

const ImmutableTagRuleSchema = Type.Object(
  { repositories: Strings, tags: Strings, except: Type.Optional(Strings) },
  strict,
);

export const ConfigFileSchema = Type.Object(
  {
    listen: Type.Optional(
      Type.Object(
        { host: Type.Optional(Type.String()), port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })) },
        strict,
      ),
    ),
    externalUrl: Type.Optional(Type.String()),
    upstream: Type.Object({ url: Type.String(), timeout: Type.Optional(Type.String()) }, strict),
    dataDir: Type.String(),
    log: Type.Optional(
      Type.Object(
        { level: Type.Optional(Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')])) },
        strict,
      ),
    ),
    auth: Type.Optional(
      Type.Object(
        {
          realm: Type.Optional(Type.String()),
          challenge: Type.Optional(Type.Union([Type.Literal('bearer'), Type.Literal('basic')])),
          failDelay: Type.Optional(Type.Number({ minimum: 0, maximum: 60 })),
          // zot-gate's own: failed-authentication throttling (identity/auth-throttle.ts)
          throttle: Type.Optional(
            Type.Object(
              {
                window: Type.Optional(Type.String()),
                delayAfter: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
                maxFailures: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
                usernameMaxFailures: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
                lockFor: Type.Optional(Type.String()),
                maxLockFor: Type.Optional(Type.String()),
              },
              strict,
            ),
          ),
          openid: Type.Optional(
            Type.Object(
              {
                providers: Type.Record(Type.String(), OpenIdProviderSchema),
                callbackAllowOrigins: Type.Optional(Strings),
              },
              strict,
            ),
          ),
          apikey: Type.Optional(Type.Object({ maxLifetime: Type.Optional(Type.String()) }, strict)),
          session: Type.Optional(Type.Object({ maxAge: Type.Optional(Type.String()) }, strict)),
          trustedIssuers: Type.Optional(Type.Array(TrustedIssuerSchema)),
          // zot-gate's own: the proxies whose X-Forwarded-For / -Proto are believed (CIDRs or addresses)
          trustedProxies: Type.Optional(Strings),
        },
        strict,
      ),
    ),
    accessControl: AccessControlSchema,
    immutableTags: Type.Optional(Type.Array(ImmutableTagRuleSchema)),
    // zot-gate's own: where audit events are appended (and synced) besides the log stream
    audit: Type.Optional(Type.Object({ file: Type.Optional(Type.String()) }, strict)),
  },
  strict,
);

export type ConfigFile = Static<typeof ConfigFileSchema>;
