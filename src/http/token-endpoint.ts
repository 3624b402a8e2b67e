/**
 * `GET /zot/auth/token?service=…&scope=…&account=…`: the Docker registry
 * token flow. With Basic credentials (an API key, or a trusted JWT as the
 * password) a token for that identity; without any, an anonymous token (it
 * can pull what anonymous may, nothing more); with bad ones 401, so a
 * `docker login` check rejects a wrong password. Tokens name the identity
 * only; policy is evaluated on every request.
 *
 * Credentials are checked by the one authentication step (authenticate.ts,
 * `TOKEN_AUTH`): failures are throttled, a locked client gets 429 with
 * `Retry-After` before its credentials are checked.
 *
 * containerd first POSTs the OAuth2 form and falls back to this GET on
 * 400/401/404/405: the POST is answered 405, never with an anonymous token.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/types.js';
import { authenticate, basicChallenge, TOKEN_AUTH, type AuthDeps } from './authenticate.js';
import { sendOciError } from './oci-error.js';
import { OAUTH_FORM_UNSUPPORTED } from './respond.js';
import { serviceOf } from './origin.js';

export interface TokenDeps {
  readonly config: () => Config;
  readonly auth: AuthDeps;
}

export function tokenEndpoint(app: FastifyInstance, deps: TokenDeps): void {
  app.get('/zot/auth/token', async (request, reply) => {
    const config = deps.config();
    // Basic here whatever auth.challenge says: this endpoint takes Basic credentials only.
    const authenticated = await authenticate(request, reply, deps.auth, config, TOKEN_AUTH, () => basicChallenge(config));
    if (authenticated === null) return reply;
    const { identity, expiresAt } = authenticated;
    // never valid past the credential it was minted from (a JWT's exp, a key's expiry)
    const issued = await deps.auth.gateTokens.issue(identity, serviceOf(request, config), deps.auth.now(), expiresAt);
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
      sendOciError(request, reply, OAUTH_FORM_UNSUPPORTED),
    );
  });
}
