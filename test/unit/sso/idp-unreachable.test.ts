/**
 * Which failures of a login are the IdP's (oidc-client.ts `idpFailure`):
 * those are `IDP_UNAVAILABLE` and answer 503 "sign-in is unavailable", the
 * others `OIDC_LOGIN_FAILED` and 400 "login failed"; either way one GateError
 * with the original as `cause`. The errors are openid-client's own classes,
 * as it throws them.
 */
import * as client from 'openid-client';
import { describe, expect, it } from 'vitest';
import type { OpenIdProvider } from '../../../src/config/types.js';
import { GateError } from '../../../src/errors.js';
import { idpFailure } from '../../../src/sso/oidc-client.js';

/** As openid-client makes them (its `e(message, cause, code)`; the typed constructor options leave `code` out). */
const clientError = (message: string, code: string, cause?: unknown) => Object.assign(new client.ClientError(message, cause === undefined ? undefined : { cause }), { code });
const notConform = (status: number) => clientError('unexpected HTTP response status code', 'OAUTH_RESPONSE_IS_NOT_CONFORM', new Response(null, { status }));
const bodyError = (status: number) =>
  new client.ResponseBodyError('server responded with an error in the response body', {
    cause: { error: status >= 500 ? 'temporarily_unavailable' : 'invalid_grant' },
    response: new Response(null, { status }),
  });

const provider = { id: 'oidc', name: 'Test IdP' } as OpenIdProvider;

describe('idpFailure', () => {
  it.each<[string, unknown, boolean]>([
    ['no answer within the timeout', clientError('operation timed out', 'OAUTH_TIMEOUT'), true],
    ['aborted', clientError('operation aborted', 'OAUTH_ABORT'), true],
    ['no connection (fetch failed)', new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') }), true],
    ['a 502 from a proxy in front of the IdP', notConform(502), true],
    ['a 503 OAuth error body', bodyError(503), true],
    ['a 400 OAuth error body (a spent code)', bodyError(400), false],
    ['a 404 that is not OAuth', notConform(404), false],
    ['a claim that does not match', clientError('unexpected JWT claim value encountered', 'OAUTH_JWT_CLAIM_COMPARISON_FAILED'), false],
    ['another TypeError', new TypeError('x is not a function'), false],
    ['not an error', 'boom', false],
  ])('%s → unreachable: %s', (_name, error, unreachable) => {
    const wrapped = idpFailure(provider, error);
    expect(wrapped).toBeInstanceOf(GateError);
    expect([wrapped.code, wrapped.status, wrapped.cause]).toEqual(unreachable ? ['IDP_UNAVAILABLE', 503, error] : ['OIDC_LOGIN_FAILED', 400, error]);
  });

  it('a GateError (discovery, the credentials file) passes as it is', () => {
    const error = new GateError('IDP_UNAVAILABLE', 'Test IdP cannot be reached right now (fetch failed)', { status: 503 });
    expect(idpFailure(provider, error)).toBe(error);
  });
});
