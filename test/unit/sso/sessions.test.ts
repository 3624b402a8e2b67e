/** Session cookie flags (DESIGN.md "Browser SSO"): HttpOnly, SameSite=Lax, Secure behind https, absolute lifetime; ids and revocation. */
import { join } from 'node:path';
import cookie from '@fastify/cookie';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RevokedSessions } from '../../../src/sso/revoked-sessions.js';
import { seal } from '../../../src/sso/seal.js';
import { Sessions, type SessionOptions } from '../../../src/sso/sessions.js';
import { makeTempDir, removeDir } from '../../harness/tmp.js';

const key = new Uint8Array(32).fill(7);
let dir: string;
let revoked: RevokedSessions;

beforeAll(async () => {
  dir = await makeTempDir('sessions');
  revoked = await RevokedSessions.open(join(dir, 'revoked-sessions.json'));
});

afterAll(async () => {
  await removeDir(dir);
});

const sessionsAt = (iso: string, options: Partial<SessionOptions> = {}) =>
  new Sessions({ key, maxAgeMs: () => 7_200_000, secure: () => false, now: () => new Date(iso), revoked, ...options });

/** What `sessions.read` makes of a cookie, as JSON. */
async function readWith(sessions: Sessions, token: string): Promise<string> {
  const app = Fastify();
  await app.register(cookie);
  app.get('/read', async (request) => JSON.stringify(await sessions.read(request)));
  return (await app.inject({ method: 'GET', url: '/read', cookies: { session: token } })).body;
}

async function issued(headers: Record<string, string>, now = new Date('2026-11-22T10:00:00Z')) {
  const sessions = new Sessions({ key, maxAgeMs: () => 2 * 3_600_000, secure: (r) => r.headers['x-forwarded-proto'] === 'https', now: () => now, revoked });
  const app = Fastify();
  await app.register(cookie);
  app.get('/issue', async (request, reply) => {
    await sessions.issue(request, reply, { user: 'alice', groups: ['admins'], provider: 'oidc' });
    return reply.send('ok');
  });
  app.get('/read', async (request) => (await sessions.read(request)) ?? 'none');
  const response = await app.inject({ method: 'GET', url: '/issue', headers });
  return { app, sessions, cookies: response.cookies };
}

describe('session cookies', () => {
  it.each([
    ['behind https (Caddy sets X-Forwarded-Proto)', { 'x-forwarded-proto': 'https' }, true],
    ['over plain http (tests, the demo)', {}, false],
  ])('%s: Secure=%s, HttpOnly session, readable user cookie, SameSite=Lax, max age 2h', async (_name, headers, secure) => {
    const { cookies } = await issued(headers);
    const session = cookies.find((c) => c.name === 'session')!;
    const user = cookies.find((c) => c.name === 'user')!;
    expect({ ...session, value: '…' }).toEqual({ name: 'session', value: '…', path: '/', httpOnly: true, sameSite: 'Lax', maxAge: 7200, ...(secure ? { secure: true } : {}) });
    expect(user).toEqual({ name: 'user', value: 'alice', path: '/', sameSite: 'Lax', maxAge: 7200, ...(secure ? { secure: true } : {}) });
  });

  it('a session is good until its absolute lifetime, not a second longer', async () => {
    const { cookies } = await issued({});
    const token = cookies.find((c) => c.name === 'session')!.value;
    const user = async (iso: string) => (JSON.parse(await readWith(sessionsAt(iso), token)) as { user: string } | null)?.user ?? null;
    expect(await user('2026-11-22T11:59:59Z')).toBe('alice');
    expect(await user('2026-11-22T12:00:01Z')).toBe(null);
  });

  it('a cookie sealed with another key, or tampered with, is no session', async () => {
    const { cookies } = await issued({});
    const token = cookies.find((c) => c.name === 'session')!.value;
    const other = sessionsAt('2026-11-22T10:00:01Z', { key: new Uint8Array(32).fill(9) });
    const app = Fastify();
    await app.register(cookie);
    app.get('/read', async (request) => JSON.stringify(await other.read(request)));
    expect((await app.inject({ method: 'GET', url: '/read', cookies: { session: token } })).body).toBe('null');
    const flipped = token.slice(0, -2) + (token.endsWith('A') ? 'B' : 'A') + token.slice(-1);
    expect((await app.inject({ method: 'GET', url: '/read', cookies: { session: flipped } })).body).toBe('null');
  });
});

describe('session ids and logout', () => {
  const at = '2026-11-22T10:00:01Z';

  it('every session gets its own random id, sealed in the cookie', async () => {
    const [a, b] = await Promise.all([issued({}), issued({})]);
    const idOf = async (cookies: typeof a.cookies) => (JSON.parse(await readWith(sessionsAt(at), cookies.find((c) => c.name === 'session')!.value)) as { id: string }).id;
    const [first, second] = await Promise.all([idOf(a.cookies), idOf(b.cookies)]);
    expect(first).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(second).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(first).not.toBe(second);
  });

  it('a cookie sealed before sessions had ids is no session (it could never be revoked)', async () => {
    const legacy = await seal({ u: 'alice', g: ['admins'], p: 'oidc', c: 'csrf' }, key, new Date('2026-11-22T10:00:00Z'), 7_200_000);
    expect(await readWith(sessionsAt(at), legacy)).toBe('null');
    const withId = await seal({ i: 'sealed-by-the-test-0001', u: 'alice', g: ['admins'], p: 'oidc', c: 'csrf' }, key, new Date('2026-11-22T10:00:00Z'), 7_200_000);
    expect(JSON.parse(await readWith(sessionsAt(at), withId))).toMatchObject({ id: 'sealed-by-the-test-0001', user: 'alice' });
  });

  it('end() revokes the session durably, clears both cookies, and the same cookie is no session after', async () => {
    const { cookies } = await issued({});
    const token = cookies.find((c) => c.name === 'session')!.value;
    const sessions = sessionsAt(at);
    const app = Fastify();
    await app.register(cookie);
    app.post('/logout', async (request, reply) => reply.send(JSON.stringify((await sessions.end(request, reply))?.user ?? null)));
    const logout = await app.inject({ method: 'POST', url: '/logout', cookies: { session: token } });
    expect(logout.body).toBe('"alice"');
    expect(logout.cookies.map((c) => [c.name, c.value])).toEqual([['session', ''], ['user', '']]);
    expect(await readWith(sessions, token)).toBe('null');
    // another gate on the same dataDir, started afresh, reads the same list
    const reopened = await RevokedSessions.open(join(dir, 'revoked-sessions.json'));
    expect(await readWith(sessionsAt(at, { revoked: reopened }), token)).toBe('null');
  });
});
