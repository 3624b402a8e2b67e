/**
 * What only the JSON-file store promises: its on-disk format and modes, and
 * how it treats a torn write, a corrupt file and an unreadable one.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY_STORE_FILE, ApiKeyStore } from '../../../src/identity/apikey-store.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const HASH = 'a04e968a53390e0adf81e7ad08a4e43bfbd50f23925de0c46510e7e0f9afdbf8';
const RECORD = {
  id: '3d0a3bc4-4a1e-4c3f-9a51-5b1f0c2d7e10',
  hash: HASH,
  owner: 'ci',
  label: 'push',
  createdAt: '2030-01-01T00:00:00.000Z',
  expiresAt: null,
  lastUsedAt: null,
  scopes: [],
};
const USER = { name: 'ci', groups: ['pushers'], updatedAt: '2030-01-01T00:00:00.000Z' };

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apikey-file-'));
  path = join(dir, 'data', API_KEY_STORE_FILE);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function clockAt(start: number): { now: number; (): number } {
  const clock = (() => clock.now) as { now: number; (): number };
  clock.now = start;
  return clock;
}

describe('ApiKeyStore on disk', () => {
  it('creates dataDir 0700 and the file 0600, holding the hash and never the key', async () => {
    const store = await ApiKeyStore.open(path, { clock: () => T0 });
    const { key, record } = await store.create({ owner: 'ci', label: 'push', expiresAt: null, scopes: [], groups: ['pushers'] });
    expect((await stat(join(dir, 'data'))).mode & 0o777).toBe(0o700);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const text = await readFile(path, 'utf8');
    expect(text).not.toContain(key.slice(4));
    expect(JSON.parse(text)).toEqual({ version: 1, keys: [record], users: [USER] });
    expect((await readdir(join(dir, 'data'))).sort()).toEqual([API_KEY_STORE_FILE]);
  });

  it('ignores a torn temp file left by a crashed writer and removes it at the next write', async () => {
    const first = await ApiKeyStore.open(path);
    const { key } = await first.create({ owner: 'ci', label: 'a', expiresAt: null, scopes: [] });
    const torn = join(dir, 'data', `.${API_KEY_STORE_FILE}.4242.0badc0ffee00.tmp`);
    await writeFile(torn, '{"version":1,"keys":[{"id":');
    const store = await ApiKeyStore.open(path);
    expect(store.lookup(key, new Date()).ok).toBe(true);
    await store.create({ owner: 'ci', label: 'b', expiresAt: null, scopes: [] });
    expect((await readdir(join(dir, 'data'))).sort()).toEqual([API_KEY_STORE_FILE]);
    expect((await store.list()).map((r) => r.label)).toEqual(['a', 'b']);
  });

  const corrupt: [string, string, string][] = [
    ['an empty file', '', 'not valid JSON'],
    ['a torn JSON document', '{"version":1,"keys":[', 'not valid JSON'],
    ['an array', '[]', 'expected {"version": 1, "keys": [...], "users": [...]}'],
    ['another version', '{"version":2,"keys":[],"users":[]}', 'expected {"version": 1, "keys": [...], "users": [...]}'],
    ['keys as an object', '{"version":1,"keys":{},"users":[]}', '"keys" holds a malformed record'],
    ['an unparseable expiry', JSON.stringify({ version: 1, keys: [{ ...RECORD, expiresAt: 'never' }], users: [] }), '"keys" holds a malformed record'],
    ['an upper-case hash', JSON.stringify({ version: 1, keys: [{ ...RECORD, hash: HASH.toUpperCase() }], users: [] }), '"keys" holds a malformed record'],
    ['a record without scopes', JSON.stringify({ version: 1, keys: [{ ...RECORD, scopes: undefined }], users: [] }), '"keys" holds a malformed record'],
    ['groups as a string', JSON.stringify({ version: 1, keys: [], users: [{ ...USER, groups: 'pushers' }] }), '"users" holds a malformed record'],
    ['no users', JSON.stringify({ version: 1, keys: [] }), '"users" holds a malformed record'],
  ];

  it.each(corrupt)('refuses to open %s: STORE_CORRUPT', async (_, text, problem) => {
    await mkdir(join(dir, 'data'));
    await writeFile(path, text);
    await expect(ApiKeyStore.open(path)).rejects.toMatchObject({
      name: 'GateError',
      code: 'STORE_CORRUPT',
      message: `${path}: ${problem}; refusing to treat it as empty`,
    });
  });

  it('keeps the JSON error as the cause', async () => {
    await mkdir(join(dir, 'data'));
    await writeFile(path, '{');
    const error = await ApiKeyStore.open(path).catch((e: unknown) => e);
    expect((error as Error).cause).toBeInstanceOf(SyntaxError);
  });

  it('refuses to open a store it cannot read: STORE_UNREADABLE', async () => {
    await mkdir(path, { recursive: true });
    await expect(ApiKeyStore.open(path)).rejects.toMatchObject({
      code: 'STORE_UNREADABLE',
      message: `${path}: cannot read the API key store (EISDIR)`,
      cause: { code: 'EISDIR' },
    });
  });

  it('fails closed when the file turns corrupt under a running gate, and recovers when it is fixed', async () => {
    const clock = clockAt(T0);
    const gate = await ApiKeyStore.open(path, { clock });
    const { key } = await gate.create({ owner: 'ci', label: 'a', expiresAt: null, scopes: [] });
    const good = await readFile(path, 'utf8');
    await writeFile(path, 'garbage');
    clock.now += 1_000;
    expect(() => gate.lookup(key, new Date(T0))).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT' }));
    // still refused inside the same interval, without re-reading
    expect(() => gate.lookup(key, new Date(T0))).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT' }));
    await expect(gate.create({ owner: 'ci', label: 'b', expiresAt: null, scopes: [] })).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    await expect(gate.revokeAllForUser('ci')).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    expect(await readFile(path, 'utf8')).toBe('garbage');
    await writeFile(path, good);
    clock.now += 1_000;
    expect(gate.lookup(key, new Date(T0)).ok).toBe(true);
  });

  it('writes back only the known fields, so a secret some other tool added is dropped', async () => {
    await mkdir(join(dir, 'data'));
    const secret = 'zak_0123456789abcdef0123456789abcdef';
    await writeFile(path, JSON.stringify({ version: 1, keys: [{ ...RECORD, key: secret }], users: [{ ...USER, password: 'x' }] }));
    const store = await ApiKeyStore.open(path, { clock: () => T0 });
    expect(await store.list()).toEqual([RECORD]);
    await store.setUserGroups('ops', ['admins']);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      version: 1,
      keys: [RECORD],
      users: [USER, { name: 'ops', groups: ['admins'], updatedAt: '2030-01-01T00:00:00.000Z' }],
    });
  });

  it('reads files without parentId as before; a key whose parent is gone (revoked by an older version) is revoked, and dropped at the next write', async () => {
    await mkdir(join(dir, 'data'));
    const CHILD = { ...RECORD, id: '3d0a3bc4-4a1e-4c3f-9a51-5b1f0c2d7e11', hash: 'b'.repeat(64), parentId: '3d0a3bc4-4a1e-4c3f-9a51-5b1f0c2d7e99' };
    const KEPT = { ...RECORD, id: '3d0a3bc4-4a1e-4c3f-9a51-5b1f0c2d7e12', hash: 'c'.repeat(64), parentId: RECORD.id };
    await writeFile(path, JSON.stringify({ version: 1, keys: [RECORD, CHILD, KEPT], users: [USER] }));
    const store = await ApiKeyStore.open(path, { clock: () => T0 });
    expect(await store.list()).toEqual([RECORD, KEPT]);
    expect(store.keyById(CHILD.id, new Date(T0), null)).toEqual({ ok: false, reason: 'unknown-key' });
    await store.setUserGroups('ci', ['pushers']);
    expect(JSON.parse(await readFile(path, 'utf8')).keys).toEqual([RECORD, KEPT]);
  });

  it.each([['a number', 5], ['an empty string', ''], ['null', null]])('refuses a file whose parentId is %s: STORE_CORRUPT', async (_name, parentId) => {
    await mkdir(join(dir, 'data'));
    await writeFile(path, JSON.stringify({ version: 1, keys: [{ ...RECORD, parentId }], users: [] }));
    await expect(ApiKeyStore.open(path)).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
  });

  it('reads files without bindings (users bound to nobody); the first login binds and writes boundTo, the rest stays', async () => {
    await mkdir(join(dir, 'data'));
    await writeFile(path, JSON.stringify({ version: 1, keys: [RECORD], users: [USER] }));
    const store = await ApiKeyStore.open(path, { clock: () => T0 });
    expect(await store.users()).toEqual([USER]);
    const subject = { issuer: 'https://idp.example.org/', subject: 'ci-sub' };
    expect(await store.recordLogin('ci', ['pushers'], subject)).toEqual({ allow: true, bind: true });
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ version: 1, keys: [RECORD], users: [{ ...USER, boundTo: { ...subject, boundAt: USER.updatedAt } }] });
  });

  it.each([
    ['a string', 'https://idp.example.org/ sub'],
    ['no subject', { issuer: 'https://idp.example.org/', boundAt: '2030-01-01T00:00:00.000Z' }],
    ['an empty subject', { issuer: 'https://idp.example.org/', subject: '', boundAt: '2030-01-01T00:00:00.000Z' }],
    ['an unparseable boundAt', { issuer: 'https://idp.example.org/', subject: 's', boundAt: 'then' }],
    ['null', null],
  ])('refuses a file whose boundTo is %s: STORE_CORRUPT (a name bound to nobody could be taken)', async (_name, boundTo) => {
    await mkdir(join(dir, 'data'));
    await writeFile(path, JSON.stringify({ version: 1, keys: [], users: [{ ...USER, boundTo }] }));
    await expect(ApiKeyStore.open(path)).rejects.toMatchObject({ code: 'STORE_CORRUPT', message: `${path}: "users" holds a malformed record; refusing to treat it as empty` });
  });

  it('treats a missing file as an empty store', async () => {
    const store = await ApiKeyStore.open(path);
    expect(await store.list()).toEqual([]);
    expect(store.lookup('zak_0123456789abcdef0123456789abcdef', new Date())).toEqual({ ok: false, reason: 'unknown-key' });
    expect(await store.revoke(RECORD.id)).toBe(false);
    expect(await readdir(join(dir, 'data'))).toEqual([]);
  });

  it('fails a mutation with LOCK_TIMEOUT while another live process holds the lock', async () => {
    const store = await ApiKeyStore.open(path, { lock: { timeoutMs: 150 } });
    const owner = { pid: process.pid, host: 'elsewhere', time: Date.now(), nonce: 'other' };
    await writeFile(`${path}.lock`, JSON.stringify(owner));
    await expect(store.create({ owner: 'ci', label: 'a', expiresAt: null, scopes: [] })).rejects.toMatchObject({
      code: 'LOCK_TIMEOUT',
      message:
        `${path}.lock: still locked after 150 ms by pid ${process.pid} on elsewhere since ${new Date(owner.time).toISOString()}; ` +
        'remove the file if no zot-gate process is using it',
    });
    expect(await readdir(join(dir, 'data'))).toEqual([`${API_KEY_STORE_FILE}.lock`]);
  });
});
