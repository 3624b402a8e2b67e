/**
 * `GET /zot/auth/token?service=…&scope=…&account=…`: the Docker registry
 * token flow. With Basic credentials (an API key, or a trusted JWT as the
 * password) a token for that identity; without any, an anonymous token (it
 * can pull what anonymous may, nothing more); with bad ones 401, so a
 * `docker login` check rejects a wrong password. Tokens name the identity
 * only; policy is evaluated on every request.
 *
 * Failed credentials are throttled (auth-throttling.ts): a locked client
 * gets 429 with `Retry-After`, before its credentials are checked.
 *
 * containerd first POSTs the OAuth2 form and falls back to this GET on
 * 400/401/404/405: the POST is answered 405, never with an anonymous token.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/types.js';
import { parseAuthorization } from '../identity/credentials.js';
import type { GateTokens } from '../identity/gate-tokens.js';
import { resolveIdentity, type ApiKeyVerifier, type TrustedJwtVerifier } from '../identity/resolve.js';
import { noteAuthFailure, noteIdentity } from '../observability/observation.js';
import { serviceOf } from './origin.js';
import type { AuthThrottling } from './auth-throttling.js';
import { sendOciError } from './oci-error.js';
import { credentialsRefused } from './refusal.js';

export interface TokenDeps {
  readonly config: () => Config;
  readonly apiKeys: ApiKeyVerifier;
  readonly gateTokens: GateTokens;
  readonly trusted?: TrustedJwtVerifier;
  readonly now: () => Date;
  readonly throttle: AuthThrottling;
}

export function tokenEndpoint(app: FastifyInstance, deps: TokenDeps): void {
  app.get('/zot/auth/token', async (request, reply) => {
    const config = deps.config();
    const service = serviceOf(request, config);
    const credentials = parseAuthorization(request.raw.rawHeaders);
    const locked = deps.throttle.refuseLocked(request, reply, credentials);
    if (locked !== null) return locked;
    // A Bearer token is not a credential for getting a token: only Basic (or nothing) is.
    const usable = credentials.ok && credentials.credentials.kind !== 'bearer' ? credentials.credentials : null;
    const resolution = usable === null ? null : await resolveIdentity(usable, { ...deps, maxKeyLifetimeMs: config.auth.apikeyMaxLifetimeMs, service });
    if (resolution === null || !resolution.ok) {
      const failure = resolution?.reason ?? (credentials.ok ? 'bearer-at-token-endpoint' : credentials.reason);
      noteAuthFailure(request, failure);
      request.log.info({ authFailure: failure }, 'token refused');
      const throttled = await deps.throttle.failed(request, reply, credentials, failure, config);
      if (throttled !== null) return throttled;
      const refused = credentialsRefused(failure);
      // Basic here whatever auth.challenge says: this endpoint takes Basic credentials only.
      return sendOciError(request, reply, refused, refused.status === 401 ? { kind: 'basic', realm: config.auth.realm } : undefined);
    }
    deps.throttle.succeeded(request, credentials, resolution.identity);
    const identity = resolution.identity;
    noteIdentity(request, identity);
    // never valid past the credential it was minted from (a JWT's exp, a key's expiry)
    const issued = await deps.gateTokens.issue(identity, service, deps.now(), resolution.expiresAt ?? null);
    request.gateReason = identity.kind === 'anonymous' ? 'anonymous-token' : 'token-issued';
    return reply
      .code(200)
      .header('cache-control', 'no-store')
      .send({ token: issued.token, access_token: issued.token, expires_in: issued.expiresIn, issued_at: issued.issuedAt });
  });

  void app.register(async (scoped) => {
    // Whatever the form says is ignored: read and drop the body, answer 405.
    scoped.removeAllContentTypeParsers();
    scoped.addContentTypeParser('*', (_request, payload, done) => {
      payload.resume();
      payload.on('end', () => done(null));
    });
    scoped.post('/zot/auth/token', async (request, reply) =>
      sendOciError(request, reply, {
        status: 405,
        code: 'UNSUPPORTED',
        message: 'use GET with Basic credentials for a token (the OAuth2 form is not offered)',
        reason: 'oauth-form-unsupported',
      }),
    );
  });
}
