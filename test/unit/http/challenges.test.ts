/**
 * The challenge a 401 carries, as a client reads it in WWW-Authenticate:
 * the Docker token flow's Bearer (default; realm and service from the public
 * origin, scope from what the request needs), zot's plain Basic under
 * `auth.challenge: basic`, Basic whatever the setting on routes that take
 * Basic only, and none for zot's UI (its browser would show a Basic prompt)
 * or on any status but 401. A real Fastify instance, answering through
 * sendOciError as every route does.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/types.js';
import { basicChallenge, challengeFor } from '../../../src/http/authenticate.js';
import { sendOciError } from '../../../src/http/oci-error.js';

function config(extra: Record<string, unknown>): Config {
  return parseConfig({ upstream: { url: 'http://127.0.0.1:5000' }, dataDir: '/tmp/unused', accessControl: { repositories: {} }, ...extra }, '/tmp/challenges.json');
}

const CONFIGS = {
  bearer: config({}),
  external: config({ externalUrl: 'https://registry.example.com' }),
  basic: config({ auth: { challenge: 'basic', realm: 'our registry' } }),
} as const;

let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify();
  // /<config>/<which>?status=&scope=: a refusal carrying the challenge `which` builds
  app.get<{ Params: { config: keyof typeof CONFIGS; which: string }; Querystring: { status?: string; scope?: string } }>('/:config/:which', async (request, reply) => {
    const chosen = CONFIGS[request.params.config];
    const challenge = request.params.which === 'basic' ? basicChallenge(chosen) : challengeFor(request, chosen, request.query.scope);
    const status = Number(request.query.status ?? '401');
    return sendOciError(request, reply, { status, code: status === 401 ? 'UNAUTHORIZED' : 'DENIED', message: 'refused', reason: 'authentication-required' }, challenge);
  });
  await app.ready();
});

afterAll(async () => {
  await app.close();
});

async function challengeOf(path: string, headers: Record<string, string> = {}): Promise<string | undefined> {
  const response = await app.inject({ method: 'GET', url: path, headers: { host: 'r.example:5000', ...headers } });
  const header = response.headers['www-authenticate'];
  return Array.isArray(header) ? header.join(' | ') : header;
}

describe('challengeFor: what a registry 401 asks for', () => {
  it.each([
    ['bearer, with the scope the request needs', '/bearer/registry?scope=repository:team/app:pull', 'Bearer realm="http://r.example:5000/zot/auth/token",service="r.example:5000",scope="repository:team/app:pull"'],
    ['bearer, a push scope', '/bearer/registry?scope=repository:team/app:pull,push', 'Bearer realm="http://r.example:5000/zot/auth/token",service="r.example:5000",scope="repository:team/app:pull,push"'],
    ['bearer without a scope (/v2/, /-/metrics)', '/bearer/registry', 'Bearer realm="http://r.example:5000/zot/auth/token",service="r.example:5000"'],
    ['bearer under externalUrl: its origin and host, not the Host header', '/external/registry?scope=repository:a:pull', 'Bearer realm="https://registry.example.com/zot/auth/token",service="registry.example.com",scope="repository:a:pull"'],
    ['auth.challenge basic: the configured realm, no scope', '/basic/registry?scope=repository:a:pull', 'Basic realm="our registry"'],
  ])('%s', async (_name, path, expected) => {
    expect(await challengeOf(path)).toBe(expected);
  });
});

describe('basicChallenge: the token endpoint and /zot/auth/apikey take Basic only', () => {
  it.each([
    ['under the default bearer setting', '/bearer/basic', 'Basic realm="zot"'],
    ['under externalUrl', '/external/basic', 'Basic realm="zot"'],
    ['with a configured realm', '/basic/basic', 'Basic realm="our registry"'],
  ])('%s', async (_name, path, expected) => {
    expect(await challengeOf(path)).toBe(expected);
  });
});

describe('no challenge', () => {
  it.each([
    ["zot's UI, bearer", '/bearer/registry?scope=repository:a:pull', { 'x-zot-api-client': 'zot-ui' }],
    ["zot's UI, basic", '/basic/basic', { 'x-zot-api-client': 'zot-ui' }],
    ['a 403', '/bearer/registry?status=403', {}],
    ['a 429', '/bearer/basic?status=429', {}],
    ['a 503', '/bearer/registry?status=503', {}],
  ])('%s', async (_name, path, headers) => {
    expect(await challengeOf(path, headers)).toBeUndefined();
  });

  it('another value of the UI header is not zot UI: the challenge is sent', async () => {
    expect(await challengeOf('/bearer/registry', { 'x-zot-api-client': 'curl' })).toBe('Bearer realm="http://r.example:5000/zot/auth/token",service="r.example:5000"');
  });
});
