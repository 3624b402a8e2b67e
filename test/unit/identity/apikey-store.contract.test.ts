/**
 * The contract every API key store honours. Each implementation supplies an
 * `open(dir, clock)`; opening twice on one dir gives two instances sharing
 * storage, the way the running gate and the `apikey` command share the file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../../src/identity/apikey.js';
import { API_KEY_STORE_FILE, ApiKeyStore } from '../../../src/identity/apikey-store.js';
import type { KeyStore, NewApiKey } from '../../../src/identity/apikey-store.js';

interface Clock {
  now: number;
  (): number;
}

function fakeClock(start: number): Clock {
  const clock = (() => clock.now) as Clock;
  clock.now = start;
  return clock;
}

interface Implementation {
  readonly name: string;
  open(dir: string, clock?: () => number): Promise<KeyStore>;
}

const implementations: Implementation[] = [
  {
    name: 'ApiKeyStore (JSON file)',
    open: (dir, clock) => ApiKeyStore.open(join(dir, API_KEY_STORE_FILE), clock === undefined ? {} : { clock }),
  },
];

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const AT = (ms: number): Date => new Date(T0 + ms);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function newKey(overrides: Partial<NewApiKey> = {}): NewApiKey {
  return { owner: 'ci', label: 'push', expiresAt: null, scopes: [], ...overrides };
}

describe.each(implementations)('$name', ({ open }) => {
  let dir: string;
  let clock: Clock;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apikey-contract-'));
    clock = fakeClock(T0);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a key that looks up to its record, without groups until some are set', async () => {
    const store = await open(dir, clock);
    const { key, record } = await store.create(newKey({ label: 'release', scopes: ['team/**'], expiresAt: AT(86_400_000) }));
    expect(key).toMatch(/^zak_[0-9a-f]{32}$/);
    expect(record.id).toMatch(UUID);
    expect(record).toEqual({
      id: record.id,
      hash: hashApiKey(key),
      owner: 'ci',
      label: 'release',
      createdAt: '2030-01-01T00:00:00.000Z',
      expiresAt: '2030-01-02T00:00:00.000Z',
      lastUsedAt: null,
      scopes: ['team/**'],
    });
    expect(store.lookup(key, AT(1))).toEqual({ ok: true, record, groups: [] });
  });

  it.each([
    ['a well-formed key never issued', 'zak_0123456789abcdef0123456789abcdef', 'unknown-key'],
    ['an upper-case key', 'zak_0123456789ABCDEF0123456789ABCDEF', 'malformed-key'],
    ['a short key', 'zak_0123', 'malformed-key'],
    ['a password', 'hunter2', 'malformed-key'],
    ['an empty string', '', 'malformed-key'],
  ])('refuses %s as %s', async (_, key, reason) => {
    const store = await open(dir, clock);
    await store.create(newKey());
    expect(store.lookup(key, AT(0))).toEqual({ ok: false, reason });
  });

  it.each([
    [-1, true],
    [0, false],
    [1, false],
    [86_400_000, false],
  ])('a key expiring at E looks up at E%+d ms as ok=%s', async (offset, ok) => {
    const store = await open(dir, clock);
    const { key } = await store.create(newKey({ expiresAt: AT(60_000) }));
    const result = store.lookup(key, AT(60_000 + offset));
    expect(result.ok ? 'ok' : result.reason).toBe(ok ? 'ok' : 'expired-key');
  });

  it('carries the owner groups given at creation, sorted and de-duplicated', async () => {
    const store = await open(dir, clock);
    const { key } = await store.create(newKey({ groups: ['pushers', 'admins', 'pushers'] }));
    const other = await store.create(newKey({ owner: 'bob' }));
    expect(store.lookup(key, AT(0))).toMatchObject({ ok: true, groups: ['admins', 'pushers'] });
    expect(store.lookup(other.key, AT(0))).toMatchObject({ ok: true, groups: [] });
  });

  it('setUserGroups replaces the groups of every key of that user, in every instance', async () => {
    const gate = await open(dir, clock);
    const cli = await open(dir, clock);
    const first = await cli.create(newKey({ groups: ['old'] }));
    const second = await cli.create(newKey());
    await cli.setUserGroups('ci', ['z', 'a', 'z']);
    clock.now += 1_000;
    expect(gate.lookup(first.key, AT(0))).toMatchObject({ ok: true, groups: ['a', 'z'] });
    expect(gate.lookup(second.key, AT(0))).toMatchObject({ ok: true, groups: ['a', 'z'] });
    await gate.setUserGroups('ci', []);
    expect(gate.lookup(first.key, AT(0))).toMatchObject({ ok: true, groups: [] });
  });

  it("groupsOf: a user's groups as last recorded (a browser session's), in every instance; none for a name never recorded", async () => {
    const gate = await open(dir, clock);
    const cli = await open(dir, clock);
    expect(gate.groupsOf('alice')).toEqual([]);
    await cli.setUserGroups('alice', ['devs', 'admins']);
    clock.now += 1_000;
    expect(gate.groupsOf('alice')).toEqual(['admins', 'devs']);
    expect(gate.groupsOf('bob')).toEqual([]);
  });

  describe('the binding of a username to its IdP account', () => {
    const ALICE = { issuer: 'https://idp.example.org/application/o/zot/', subject: 'a1' };
    const MALLORY = { issuer: ALICE.issuer, subject: 'm2' };
    const BOUND = { issuer: ALICE.issuer, subject: 'a1', boundAt: '2030-01-01T00:00:00.000Z' };

    it("the first login binds the name and records its groups; the same account's next login changes the groups, not the binding", async () => {
      const store = await open(dir, clock);
      const { key } = await store.create(newKey({ owner: 'alice' }));
      expect(await store.recordLogin('alice', ['admins'], ALICE)).toEqual({ allow: true, bind: true });
      clock.now += 1_000;
      expect(await store.recordLogin('alice', ['devs', 'admins'], ALICE)).toEqual({ allow: true, bind: false });
      expect(await store.users()).toEqual([{ name: 'alice', groups: ['admins', 'devs'], updatedAt: '2030-01-01T00:00:01.000Z', boundTo: BOUND }]);
      expect(store.lookup(key, AT(2_000))).toMatchObject({ ok: true, groups: ['admins', 'devs'] });
    });

    it('a login of another account (another sub, or the same sub of another issuer) as a bound name is refused and writes nothing', async () => {
      const gate = await open(dir, clock);
      const { key } = await gate.create(newKey({ owner: 'alice' }));
      await gate.recordLogin('alice', ['admins'], ALICE);
      const before = await gate.users();
      const cli = await open(dir, clock);
      for (const other of [MALLORY, { issuer: 'https://other.example.org/', subject: 'a1' }]) {
        expect(await cli.recordLogin('alice', [], other)).toEqual({ allow: false, reason: 'username-bound-to-another-subject', boundTo: ALICE });
      }
      expect(await gate.users()).toEqual(before);
      expect(gate.lookup(key, AT(1))).toMatchObject({ ok: true, groups: ['admins'] });
    });

    it('setUserGroups (apikey create --groups) keeps the binding', async () => {
      const store = await open(dir, clock);
      await store.recordLogin('alice', ['admins'], ALICE);
      await store.setUserGroups('alice', ['ops']);
      expect((await store.users())[0]).toMatchObject({ groups: ['ops'], boundTo: BOUND });
      expect(await store.recordLogin('alice', [], MALLORY)).toMatchObject({ allow: false });
    });

    it('a service account (groups the operator set) is bound to the local subject; a name bound already keeps its binding', async () => {
      const store = await open(dir, clock);
      const LOCAL = { issuer: 'zot-gate:local', subject: 'ci' };
      await store.create(newKey({ owner: 'ci', groups: ['pushers'], serviceAccount: true }));
      expect(await store.users()).toEqual([{ name: 'ci', groups: ['pushers'], updatedAt: '2030-01-01T00:00:00.000Z', boundTo: { ...LOCAL, boundAt: '2030-01-01T00:00:00.000Z' } }]);
      expect(await store.recordLogin('ci', ['outsiders'], MALLORY)).toEqual({ allow: false, reason: 'username-bound-to-another-subject', boundTo: LOCAL });
      expect(store.groupsOf('ci')).toEqual(['pushers']);
      await store.recordLogin('alice', ['admins'], ALICE);
      await store.create(newKey({ owner: 'alice', groups: ['ops'], serviceAccount: true }));
      expect((await store.users()).find((user) => user.name === 'alice')).toMatchObject({ groups: ['ops'], boundTo: BOUND });
      expect(await store.releaseBinding('ci')).toEqual({ ...LOCAL, boundAt: '2030-01-01T00:00:00.000Z' });
      expect(await store.recordLogin('ci', ['outsiders'], MALLORY)).toEqual({ allow: true, bind: true });
    });

    it('releaseBinding unbinds the name, keeping its groups and keys; the next login binds it again', async () => {
      const store = await open(dir, clock);
      const { key } = await store.create(newKey({ owner: 'alice' }));
      await store.recordLogin('alice', ['admins'], ALICE);
      expect(await store.releaseBinding('alice')).toEqual(BOUND);
      expect(await store.releaseBinding('alice')).toBeNull();
      expect(await store.releaseBinding('nobody')).toBeNull();
      expect(await store.users()).toEqual([{ name: 'alice', groups: ['admins'], updatedAt: '2030-01-01T00:00:00.000Z' }]);
      expect(store.lookup(key, AT(1))).toMatchObject({ ok: true, groups: ['admins'] });
      expect(await store.recordLogin('alice', [], MALLORY)).toEqual({ allow: true, bind: true });
      expect((await store.users())[0]?.boundTo).toEqual({ ...MALLORY, boundAt: '2030-01-01T00:00:00.000Z' });
    });

    it('two instances racing to bind one name: exactly one wins', async () => {
      const one = await open(dir, clock);
      const two = await open(dir, clock);
      const results = await Promise.all([one.recordLogin('alice', ['a'], ALICE), two.recordLogin('alice', ['m'], MALLORY)]);
      expect(results.filter((r) => r.allow)).toHaveLength(1);
      const winner = results[0]!.allow ? ALICE : MALLORY;
      expect((await (await open(dir, clock)).users())[0]?.boundTo).toMatchObject(winner);
    });
  });

  it('a revocation by another instance takes effect at the next check, 1 s apart at most', async () => {
    const gate = await open(dir, clock);
    const cli = await open(dir, clock);
    const { key, record } = await cli.create(newKey());
    clock.now += 1_000;
    expect(gate.lookup(key, AT(0)).ok).toBe(true);
    expect(await cli.revoke(record.id)).toBe(true);
    clock.now += 999;
    expect(gate.lookup(key, AT(0)).ok).toBe(true);
    clock.now += 1;
    expect(gate.lookup(key, AT(0))).toEqual({ ok: false, reason: 'unknown-key' });
  });

  it('a revocation by another instance takes effect within 1.1 s of real time', async () => {
    const cli = await open(dir);
    const { key, record } = await cli.create(newKey());
    const gate = await open(dir);
    expect(gate.lookup(key, new Date()).ok).toBe(true);
    await cli.revoke(record.id);
    const revokedAt = Date.now();
    while (gate.lookup(key, new Date()).ok && Date.now() - revokedAt < 2_000) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(gate.lookup(key, new Date())).toEqual({ ok: false, reason: 'unknown-key' });
    expect(Date.now() - revokedAt).toBeLessThan(1_100);
  });

  it('revoke answers whether the key existed; the revoking instance stops at once', async () => {
    const store = await open(dir, clock);
    const { key, record } = await store.create(newKey());
    expect(await store.revoke(record.id)).toBe(true);
    expect(await store.revoke(record.id)).toBe(false);
    expect(await store.revoke('00000000-0000-4000-8000-000000000000')).toBe(false);
    expect(store.lookup(key, AT(0))).toEqual({ ok: false, reason: 'unknown-key' });
  });

  it('revokeAllForUser revokes only that user and counts', async () => {
    const store = await open(dir, clock);
    const ci = [await store.create(newKey()), await store.create(newKey()), await store.create(newKey())];
    const bob = await store.create(newKey({ owner: 'bob' }));
    expect(await store.revokeAllForUser('ci')).toBe(3);
    expect(await store.revokeAllForUser('ci')).toBe(0);
    expect(ci.map(({ key }) => store.lookup(key, AT(0)).ok)).toEqual([false, false, false]);
    expect(store.lookup(bob.key, AT(0)).ok).toBe(true);
  });

  it('records the parent of a key minted with a key, and revoking a key revokes every key below it, in every instance', async () => {
    const gate = await open(dir, clock);
    const cli = await open(dir, clock);
    const root = await gate.create(newKey({ label: 'root' }));
    const child = await gate.create(newKey({ label: 'child', parentId: root.record.id }));
    const grandchild = await gate.create(newKey({ label: 'grandchild', parentId: child.record.id }));
    const sibling = await gate.create(newKey({ label: 'sibling' }));
    expect(child.record.parentId).toBe(root.record.id);
    expect(root.record).not.toHaveProperty('parentId');
    expect((await cli.list()).map((r) => r.parentId ?? null)).toEqual([null, root.record.id, child.record.id, null]);
    expect(await cli.revokeTree(root.record.id)).toEqual([root.record.id, child.record.id, grandchild.record.id]);
    clock.now += 1_000;
    expect([root, child, grandchild, sibling].map(({ key }) => gate.lookup(key, AT(0)).ok)).toEqual([false, false, false, true]);
    expect(gate.keyById(grandchild.record.id, AT(0), null)).toEqual({ ok: false, reason: 'unknown-key' });
    expect(await gate.revokeTree(root.record.id)).toEqual([]);
  });

  it('revoke and revokeAllForUser cascade too', async () => {
    const store = await open(dir, clock);
    const root = await store.create(newKey());
    const child = await store.create(newKey({ parentId: root.record.id }));
    expect(await store.revoke(root.record.id)).toBe(true);
    expect(store.lookup(child.key, AT(0)).ok).toBe(false);
    const other = await store.create(newKey({ owner: 'bob' }));
    await store.create(newKey({ owner: 'bob', parentId: other.record.id }));
    expect(await store.revokeAllForUser('bob')).toBe(2);
  });

  it('refuses to mint a key under a parent that is gone (revoked while the child was being made)', async () => {
    const store = await open(dir, clock);
    const root = await store.create(newKey());
    await store.revoke(root.record.id);
    await expect(store.create(newKey({ parentId: root.record.id }))).rejects.toMatchObject({ code: 'APIKEY_PARENT_GONE' });
    expect(await store.list()).toEqual([]);
  });

  it('keyById and isActive answer for a key by id, maxLifetime included', async () => {
    const store = await open(dir, clock);
    const { record } = await store.create(newKey({ groups: ['g'], expiresAt: AT(10_000) }));
    expect(store.keyById(record.id, AT(0), null)).toEqual({ ok: true, record, groups: ['g'] });
    expect(store.keyById(record.id, AT(10_000), null)).toEqual({ ok: false, reason: 'expired-key' });
    expect(store.keyById(record.id, AT(5_000), 5_000)).toEqual({ ok: false, reason: 'expired-key' });
    expect([store.isActive(record.id, AT(4_999), 5_000), store.isActive(record.id, AT(5_000), 5_000)]).toEqual([true, false]);
    expect(store.keyById('00000000-0000-4000-8000-000000000000', AT(0), null)).toEqual({ ok: false, reason: 'unknown-key' });
  });

  it('lookup applies maxLifetime to keys made before it', async () => {
    const store = await open(dir, clock);
    const { key } = await store.create(newKey());
    expect(store.lookup(key, AT(60_000), 60_001).ok).toBe(true);
    expect(store.lookup(key, AT(60_000), 60_000)).toEqual({ ok: false, reason: 'expired-key' });
  });

  it('applies the label rule: trimmed, 1 to 100 characters, no control characters', async () => {
    const store = await open(dir, clock);
    expect((await store.create(newKey({ label: ' ci ' }))).record.label).toBe('ci');
    await expect(store.create(newKey({ label: 'a\u001bb' }))).rejects.toMatchObject({ code: 'APIKEY_INVALID', message: 'api key: label: control characters are not allowed' });
    await expect(store.create(newKey({ label: '' }))).rejects.toMatchObject({ code: 'APIKEY_INVALID' });
    expect(await store.list()).toHaveLength(1);
  });

  it('lists records oldest first, per owner, never with a secret', async () => {
    const store = await open(dir, clock);
    const a = await store.create(newKey({ label: 'a' }));
    clock.now += 5;
    const b = await store.create(newKey({ owner: 'bob', label: 'b' }));
    clock.now += 5;
    const c = await store.create(newKey({ label: 'c' }));
    expect(await store.list()).toEqual([a.record, b.record, c.record]);
    expect(await store.list('ci')).toEqual([a.record, c.record]);
    expect(await store.list('nobody')).toEqual([]);
    const listed = JSON.stringify(await store.list());
    for (const { key } of [a, b, c]) expect(listed).not.toContain(key.slice(4));
  });

  it('loses nothing when two instances create 20 keys each, interleaved', async () => {
    const gate = await open(dir, clock);
    const cli = await open(dir, clock);
    const created = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? gate : cli).create(newKey({ label: `k${i}` }))),
    );
    const third = await open(dir, clock);
    const ids = (await third.list()).map((record) => record.id).sort();
    expect(ids).toEqual(created.map(({ record }) => record.id).sort());
    expect(created.filter(({ key }) => third.lookup(key, AT(0)).ok)).toHaveLength(40);
  });

  it('writes lastUsedAt back at most once a minute per key', async () => {
    const gate = await open(dir, clock);
    const { record } = await gate.create(newKey());
    const lastUsed = async (): Promise<string | null> => {
      const [listed] = await (await open(dir, clock)).list();
      return listed?.lastUsedAt ?? null;
    };
    await gate.recordUse(record.id, AT(1_000));
    expect(await lastUsed()).toBe('2030-01-01T00:00:01.000Z');
    clock.now += 59_999;
    await gate.recordUse(record.id, AT(2_000));
    expect(await lastUsed()).toBe('2030-01-01T00:00:01.000Z');
    expect((await gate.list())[0]?.lastUsedAt).toBe('2030-01-01T00:00:02.000Z');
    clock.now += 1;
    await gate.recordUse(record.id, AT(3_000));
    expect(await lastUsed()).toBe('2030-01-01T00:00:03.000Z');
  });

  it('flush writes pending uses at once and never moves lastUsedAt backwards', async () => {
    const gate = await open(dir, clock);
    const { record } = await gate.create(newKey());
    await gate.recordUse(record.id, AT(5_000));
    await gate.recordUse(record.id, AT(4_000));
    await gate.flush();
    const [listed] = await (await open(dir, clock)).list();
    expect(listed?.lastUsedAt).toBe('2030-01-01T00:00:05.000Z');
  });

  it('a use flush merges into the current file: it neither resurrects a revoked key nor drops a new one', async () => {
    const gate = await open(dir, clock);
    const cli = await open(dir, clock);
    const revoked = await cli.create(newKey({ label: 'revoked' }));
    const kept = await cli.create(newKey({ label: 'kept' }));
    clock.now += 1_000;
    await gate.recordUse(revoked.record.id, AT(1_000));
    clock.now += 10_000;
    await gate.recordUse(revoked.record.id, AT(2_000)); // pending, not yet due
    await cli.revoke(revoked.record.id);
    const added = await cli.create(newKey({ label: 'added' }));
    await gate.recordUse(kept.record.id, AT(3_000)); // due: flushes both pending uses
    await gate.flush();
    const labels = (await (await open(dir, clock)).list()).map((r) => [r.label, r.lastUsedAt]);
    expect(labels).toEqual([
      ['kept', '2030-01-01T00:00:03.000Z'],
      ['added', null],
    ]);
    expect((await gate.list()).map((r) => r.id)).toEqual([kept.record.id, added.record.id]);
  });

  it('rejects a key without an owner or with an invalid expiry', async () => {
    const store = await open(dir, clock);
    await expect(store.create(newKey({ owner: '' }))).rejects.toMatchObject({ code: 'APIKEY_INVALID', message: 'api key: owner is empty' });
    await expect(store.create(newKey({ expiresAt: new Date(Number.NaN) }))).rejects.toMatchObject({
      code: 'APIKEY_INVALID',
      message: 'api key: expiresAt is not a valid date',
    });
    expect(await store.list()).toEqual([]);
  });
});
