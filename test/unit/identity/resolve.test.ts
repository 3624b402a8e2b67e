import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore } from '../../../src/identity/apikey-store.js';
import { resolveIdentity } from '../../../src/identity/resolve.js';
import type { ApiKeyRecord } from '../../../src/identity/types.js';

const created = Date.parse('2026-01-01T00:00:00.000Z');
const now = () => new Date('2026-03-01T00:00:00.000Z'); // 59 days later
let store: ApiKeyStore;
let key: string;
let scopedKey: string;
let record: ApiKeyRecord;

beforeAll(async () => {
  store = await ApiKeyStore.open(join(mkdtempSync(join(tmpdir(), 'zot-gate-resolve-')), 'apikeys.json'), { clock: () => created });
  ({ key, record } = await store.create({ owner: 'ci', label: 'build', expiresAt: null, scopes: [], groups: ['g'] }));
  ({ key: scopedKey } = await store.create({ owner: 'ci', label: 'scoped', expiresAt: null, scopes: ['team/**'] }));
});

describe('resolveIdentity (against the real key store)', () => {
  it.each([
    ['no credentials → anonymous', () => ({ kind: 'none' }) as const, () => ({ ok: true, identity: { kind: 'anonymous' } })],
    ['a key with its owner', () => ({ kind: 'basic', username: 'ci', password: key }) as const, () => ({ ok: true, identity: { kind: 'user', name: 'ci', groups: ['g'], method: 'apikey', keyId: record.id }, expiresAt: null })],
    ['a key with another user name', () => ({ kind: 'basic', username: 'admin', password: key }) as const, () => ({ ok: false, reason: 'username-mismatch' })],
    ['an unknown key', () => ({ kind: 'basic', username: 'ci', password: 'zak_ffffffffffffffffffffffffffffffff' }) as const, () => ({ ok: false, reason: 'unknown-key' })],
    ['a malformed key', () => ({ kind: 'basic', username: 'ci', password: 'zak_XYZ' }) as const, () => ({ ok: false, reason: 'malformed-key' })],
    ['a password that is no key', () => ({ kind: 'basic', username: 'ci', password: 'hunter2' }) as const, () => ({ ok: false, reason: 'not-an-api-key' })],
    ['a bearer token that is no JWT', () => ({ kind: 'bearer', token: 'abc' }) as const, () => ({ ok: false, reason: 'invalid-token' })],
  ])('%s', async (_name, credentials, expected) => {
    expect(await resolveIdentity(credentials(), { apiKeys: store, now })).toEqual(expected());
  });

  it('a scoped key carries its scopes', async () => {
    const result = await resolveIdentity({ kind: 'basic', username: 'ci', password: scopedKey }, { apiKeys: store, now });
    expect(result).toMatchObject({ ok: true, identity: { name: 'ci', scopes: ['team/**'] } });
  });

  it.each([
    [null, true],
    [60 * 86_400_000, true],
    [59 * 86_400_000, false],
  ])('auth.apikey.maxLifetime %j applies to a key made 59 days ago: accepted=%j', async (max, accepted) => {
    const result = await resolveIdentity({ kind: 'basic', username: 'ci', password: key }, { apiKeys: store, now, maxKeyLifetimeMs: max });
    expect(result).toEqual(accepted ? expect.objectContaining({ ok: true }) : { ok: false, reason: 'expired-key' });
  });
});
