/** Session cookie flags (DESIGN.md "Browser SSO"): HttpOnly, SameSite=Lax, Secure behind https, absolute lifetime. */
import cookie from '@fastify/cookie';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { Sessions } from '../../../src/sso/sessions.js';

const key = new Uint8Array(32).fill(7);

async function issued(headers: Record<string, string>, now = new Date('2026-11-22T10:00:00Z')) {
  const sessions = new Sessions({ key, maxAgeMs: () => 2 * 3_600_000, secure: (r) => r.headers['x-forwarded-proto'] === 'https', now: () => now });
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
    const at = (iso: string) =>
      new Sessions({ key, maxAgeMs: () => 7_200_000, secure: () => false, now: () => new Date(iso) });
    const read = async (iso: string) => {
      const app = Fastify();
      await app.register(cookie);
      app.get('/read', async (request) => JSON.stringify((await at(iso).read(request))?.user ?? null));
      return (await app.inject({ method: 'GET', url: '/read', cookies: { session: token } })).body;
    };
    expect(await read('2026-11-22T11:59:59Z')).toBe('"alice"');
    expect(await read('2026-11-22T12:00:01Z')).toBe('null');
  });

  it('a cookie sealed with another key, or tampered with, is no session', async () => {
    const { cookies } = await issued({});
    const token = cookies.find((c) => c.name === 'session')!.value;
    const other = new Sessions({ key: new Uint8Array(32).fill(9), maxAgeMs: () => 7_200_000, secure: () => false, now: () => new Date('2026-11-22T10:00:01Z') });
    const app = Fastify();
    await app.register(cookie);
    app.get('/read', async (request) => JSON.stringify(await other.read(request)));
    expect((await app.inject({ method: 'GET', url: '/read', cookies: { session: token } })).body).toBe('null');
    const flipped = token.slice(0, -2) + (token.endsWith('A') ? 'B' : 'A') + token.slice(-1);
    expect((await app.inject({ method: 'GET', url: '/read', cookies: { session: flipped } })).body).toBe('null');
  });
});
