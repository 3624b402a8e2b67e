/** Session cookie flags (README, "In a browser"): HttpOnly, SameSite=Lax, Secure behind https, absolute lifetime; ids and revocation. */
import { join } from 'node:path';
import cookie from '@fastify/cookie';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RevokedSessions } from '../../../src/sso/revoked-sessions.js';
import { seal } from '../../../src/sso/seal.js';
import { GateError } from '../../../src/errors.js';
import { MAX_COOKIE_BYTES, sessionFailure, Sessions, type SessionOptions } from '../../../src/sso/sessions.js';
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

/** The key store's groups, as the tests set them. */
const groups = new Map<string, readonly string[]>([['alice', ['admins']]]);
const groupsOf = (user: string) => groups.get(user) ?? [];

const sessionsAt = (iso: string, options: Partial<SessionOptions> = {}) =>
  new Sessions({ key, maxAgeMs: () => 7_200_000, secure: () => false, now: () => new Date(iso), revoked, groupsOf, ...options });

/** What `sessions.read` makes of a cookie, as JSON. */
async function readWith(sessions: Sessions, token: string): Promise<string> {
  const app = Fastify();
  await app.register(cookie);
  app.get('/read', async (request) => JSON.stringify(await sessions.read(request)));
  return (await app.inject({ method: 'GET', url: '/read', cookies: { session: token } })).body;
}

async function issued(headers: Record<string, string>, now = new Date('2026-11-22T10:00:00Z')) {
  const sessions = new Sessions({ key, maxAgeMs: () => 2 * 3_600_000, secure: (r) => r.headers['x-forwarded-proto'] === 'https', now: () => now, revoked, groupsOf });
  const app = Fastify();
  await app.register(cookie);
  app.get('/issue', async (request, reply) => {
    await sessions.issue(request, reply, { user: 'alice', provider: 'oidc' });
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

describe('the lifetime is the current auth.session.maxAge (policy/session-lifetime.ts)', () => {
  it('lowering maxAge ends a session older than it; raising it again never reaches past the sealed expiry', async () => {
    const { cookies } = await issued({});
    const token = cookies.find((c) => c.name === 'session')!.value;
    const userAt = async (iso: string, maxAgeMs: number) => (JSON.parse(await readWith(sessionsAt(iso, { maxAgeMs: () => maxAgeMs }), token)) as { user: string } | null)?.user ?? null;
    expect(await userAt('2026-11-22T10:29:59Z', 30 * 60_000)).toBe('alice');
    expect(await userAt('2026-11-22T10:30:00Z', 30 * 60_000)).toBe(null);
    expect(await userAt('2026-11-22T11:59:59Z', 24 * 3_600_000)).toBe('alice');
    expect(await userAt('2026-11-22T12:00:00Z', 24 * 3_600_000)).toBe(null);
  });

  it('the session says when it ends by the current maxAge', async () => {
    const { cookies } = await issued({});
    const token = cookies.find((c) => c.name === 'session')!.value;
    const read = JSON.parse(await readWith(sessionsAt('2026-11-22T10:00:01Z', { maxAgeMs: () => 3_600_000 }), token)) as { issuedAt: number; expiresAt: number; sealedUntil: number };
    const at = (iso: string) => Date.parse(iso) / 1000;
    expect(read).toMatchObject({ issuedAt: at('2026-11-22T10:00:00Z'), expiresAt: at('2026-11-22T11:00:00Z'), sealedUntil: at('2026-11-22T12:00:00Z') });
  });
});

describe('groups live on the server, not in the cookie', () => {
  it("a session's groups are the key store's for its user, read on every request; the seal holds none", async () => {
    const { cookies } = await issued({});
    const token = cookies.find((c) => c.name === 'session')!.value;
    const read = async () => (JSON.parse(await readWith(sessionsAt('2026-11-22T10:00:01Z'), token)) as { groups: string[] }).groups;
    expect(await read()).toEqual(['admins']);
    groups.set('alice', ['admins', 'devs']);
    try {
      expect(await read()).toEqual(['admins', 'devs']);
    } finally {
      groups.set('alice', ['admins']);
    }
  });

  it('groups sealed into an older cookie are ignored', async () => {
    const old = await seal({ i: 'sealed-by-the-test-0002', u: 'mallory', g: ['admins'], p: 'oidc', c: 'csrf' }, key, new Date('2026-11-22T10:00:00Z'), 7_200_000);
    expect(JSON.parse(await readWith(sessionsAt('2026-11-22T10:00:01Z'), old))).toMatchObject({ user: 'mallory', groups: [] });
  });

  it('while the groups cannot be read, read() throws (the caller answers 503) rather than say "no session"', async () => {
    const failing = sessionsAt('2026-11-22T10:00:01Z', {
      groupsOf: () => {
        throw new GateError('STORE_UNREADABLE', '/data/apikeys.json: cannot read');
      },
    });
    const { cookies } = await issued({});
    const app = Fastify();
    await app.register(cookie);
    app.get('/read', async (request) => {
      try {
        return JSON.stringify(await failing.read(request));
      } catch (error) {
        return JSON.stringify(sessionFailure(error));
      }
    });
    const response = await app.inject({ method: 'GET', url: '/read', cookies: { session: cookies.find((c) => c.name === 'session')!.value } });
    expect(JSON.parse(response.body)).toEqual({ reason: 'key-store-unreadable', problem: 'the API key store cannot be read' });
  });
});

describe('every cookie fits in a browser (4096 bytes)', () => {
  async function issue(user: string): Promise<{ status: number; headers: string[] }> {
    const sessions = sessionsAt('2026-11-22T10:00:00Z');
    const app = Fastify();
    await app.register(cookie);
    app.get('/issue', async (request, reply) => {
      try {
        await sessions.issue(request, reply, { user, provider: 'oidc' });
        return reply.send('ok');
      } catch (error) {
        return reply.code(500).send((error as Error).message);
      }
    });
    const response = await app.inject({ method: 'GET', url: '/issue' });
    const set = response.headers['set-cookie'];
    return { status: response.statusCode, headers: set === undefined ? [] : Array.isArray(set) ? set : [set] };
  }

  it('the longest username the username rule lets in (256 characters of 3 UTF-8 bytes): both cookies set, each under 4096 bytes', async () => {
    const { status, headers } = await issue('€'.repeat(256));
    expect(status).toBe(200);
    expect(headers.map((h) => h.slice(0, h.indexOf('=')))).toEqual(['session', 'user']);
    for (const header of headers) expect(Buffer.byteLength(header)).toBeLessThanOrEqual(MAX_COOKIE_BYTES);
  });

  it('a cookie that would not fit is an error, and no cookie is set', async () => {
    const { status, headers } = await issue('€'.repeat(1_000));
    expect(status).toBe(500);
    expect(headers).toEqual([]);
  });

  it('a callback_ui too long for the login cookie is dropped for "/"; the login cookie still fits', async () => {
    const sessions = sessionsAt('2026-11-22T10:00:00Z');
    const app = Fastify();
    await app.register(cookie);
    const state = { provider: 'oidc', state: 's', nonce: 'n', verifier: 'v' };
    app.get('/start', async (request, reply) => {
      await sessions.startLogin(request, reply, { ...state, callbackUi: (request.query as { to: string }).to });
      return reply.send('ok');
    });
    app.get('/zot/auth/callback/oidc', async (request, reply) => reply.send(await sessions.finishLogin(request, reply)));
    for (const [to, expected] of [['/-/account', '/-/account'], [`/${'x'.repeat(5_000)}`, '/']] as const) {
      const started = await app.inject({ method: 'GET', url: `/start?to=${encodeURIComponent(to)}` });
      const header = started.headers['set-cookie'] as string;
      expect(Buffer.byteLength(header)).toBeLessThanOrEqual(MAX_COOKIE_BYTES);
      const login = started.cookies.find((c) => c.name === 'zot_gate_login')!;
      const finished = await app.inject({ method: 'GET', url: '/zot/auth/callback/oidc', cookies: { zot_gate_login: login.value } });
      expect(finished.json()).toEqual({ ...state, callbackUi: expected });
    }
  });
});
