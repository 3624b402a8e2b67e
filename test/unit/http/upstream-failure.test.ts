/**
 * How a failed request to the registry is told to the client (upstream.ts
 * `upstreamFailure`): by the error code, through reply-from's wrappers, with
 * undici's own error classes.
 */
import { errors } from 'undici';
import { describe, expect, it } from 'vitest';
import { catalogFailure, upstreamFailure } from '../../../src/http/respond.js';
import { GateError } from '../../../src/errors.js';

const coded = (message: string, code: string, cause?: unknown) => Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code });
const refused = coded('connect ECONNREFUSED 127.0.0.1:5051', 'ECONNREFUSED');

const unreachable = (upstream: string) => ({
  status: 503,
  code: 'UNAVAILABLE',
  message: 'the registry behind the gate cannot be reached; retry later',
  reason: 'upstream-unreachable',
  detail: { upstream },
});
const timedOut = (upstream: string) => ({
  status: 504,
  code: 'UNAVAILABLE',
  message: 'the registry behind the gate did not answer in time; retry later',
  reason: 'upstream-timeout',
  detail: { upstream },
});
const brokeOff = (upstream?: string) => ({
  status: 502,
  code: 'UNAVAILABLE',
  message: 'the registry behind the gate broke off its answer; retry later',
  reason: 'upstream-error',
  ...(upstream === undefined ? {} : { detail: { upstream } }),
});

describe('upstreamFailure', () => {
  const selfCaused = coded('loops', 'UND_ERR_SOCKET');
  (selfCaused as { cause?: unknown }).cause = selfCaused;

  it.each<[string, unknown, unknown]>([
    ['connection refused', refused, unreachable('ECONNREFUSED')],
    ['refused, wrapped by reply-from', coded('connect ECONNREFUSED', 'FST_REPLY_FROM_INTERNAL_SERVER_ERROR', refused), unreachable('ECONNREFUSED')],
    ['no such host, wrapped as 503 by reply-from', coded('Service Unavailable', 'FST_REPLY_FROM_SERVICE_UNAVAILABLE', coded('getaddrinfo ENOTFOUND zot', 'ENOTFOUND')), unreachable('ENOTFOUND')],
    ['connect timeout', new errors.ConnectTimeoutError(), unreachable('UND_ERR_CONNECT_TIMEOUT')],
    ['the pool is closed', new errors.ClientClosedError(), unreachable('UND_ERR_CLOSED')],
    ['headers timeout', new errors.HeadersTimeoutError(), timedOut('UND_ERR_HEADERS_TIMEOUT')],
    ['headers timeout, wrapped by reply-from', coded('Gateway Timeout', 'FST_REPLY_FROM_GATEWAY_TIMEOUT', new errors.HeadersTimeoutError()), timedOut('UND_ERR_HEADERS_TIMEOUT')],
    ['a stalled body', new errors.BodyTimeoutError(), timedOut('UND_ERR_BODY_TIMEOUT')],
    ['the registry closed the connection', new errors.SocketError('other side closed'), brokeOff('UND_ERR_SOCKET')],
    ['a reset', coded('read ECONNRESET', 'ECONNRESET'), brokeOff('ECONNRESET')],
    ['a body shorter than its length', new errors.ResponseContentLengthMismatchError(), brokeOff('UND_ERR_RES_CONTENT_LENGTH_MISMATCH')],
    ['a JSON body that does not parse', new SyntaxError('Unexpected token'), brokeOff()],
    ['not an error at all', 'boom', brokeOff()],
    ['a cause chain that loops', selfCaused, brokeOff('UND_ERR_SOCKET')],
  ])('%s', (_name, error, expected) => {
    expect(upstreamFailure(error)).toEqual(expected);
  });
});

describe('catalogFailure', () => {
  it.each<[string, unknown, unknown]>([
    [
      'the registry answered a status other than 200',
      new GateError('UPSTREAM_CATALOG', 'upstream answered 500 to _catalog', { status: 502 }),
      {
        status: 502,
        code: 'UNAVAILABLE',
        message: 'the registry behind the gate could not list its repositories; retry later',
        reason: 'upstream-error',
        detail: { upstream: 'upstream answered 500 to _catalog' },
      },
    ],
    ['the registry could not be reached', refused, unreachable('ECONNREFUSED')],
  ])('%s', (_name, error, expected) => {
    expect(catalogFailure(error)).toEqual(expected);
  });
});
