/**
 * Gate tokens are never worth more than their source: `exp` no later than
 * the source's expiry, and a key-minted token answers to its key as it is now.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { GateTokens, type KeyNow } from '../../../src/identity/gate-tokens.js';
import type { Identity } from '../../../src/identity/types.js';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const AUD = 'registry.example.org';
const KEY_ID = '7f1c2d4e-0000-4000-8000-000000000001';
const fromKey: Identity = { kind: 'user', name: 'ci', groups: ['old'], method: 'apikey', keyId: KEY_ID };
let tokens: GateTokens;

beforeAll(async () => {
  tokens = await GateTokens.open(mkdtempSync(join(tmpdir(), 'gate-tokens-')));
});

describe('issue: exp is the earliest of five minutes and the source', () => {
  it.each<[string, Date | null, number]>([
    ['no bound', null, 300],
    ['a source ending in 8 s', new Date(NOW.getTime() + 8_000), 8],
    ['a source ending in 8.9 s: rounded down', new Date(NOW.getTime() + 8_900), 8],
    ['a source ending in an hour', new Date(NOW.getTime() + 3_600_000), 300],
    ['a source already ended', new Date(NOW.getTime() - 1_000), 0],
  ])('%s → expires_in %i', async (_name, source, seconds) => {
    const issued = await tokens.issue(fromKey, AUD, NOW, source);
    expect(issued.expiresIn).toBe(seconds);
    expect(decodeJwt(issued.token).exp).toBe(NOW.getTime() / 1000 + seconds);
  });
});

describe('verify: a key-minted token answers to the key as it is now', () => {
  const current: KeyNow = { ok: true, record: { owner: 'ci', scopes: ['team/**'] }, groups: ['new'] };
  it.each<[string, Identity, KeyNow, unknown]>([
    ["the key's current groups and scopes", fromKey, current, { ok: true, identity: { kind: 'user', name: 'ci', groups: ['new'], method: 'apikey', keyId: KEY_ID, scopes: ['team/**'] } }],
    ['a revoked key', fromKey, { ok: false, reason: 'unknown-key' }, { ok: false, reason: 'revoked-key' }],
    ['an expired key (maxLifetime included)', fromKey, { ok: false, reason: 'expired-key' }, { ok: false, reason: 'expired-key' }],
    ['a key now owned by someone else', fromKey, { ...current, record: { owner: 'eve', scopes: [] } }, { ok: false, reason: 'invalid-token' }],
    ['an apikey token naming no key', { kind: 'user', name: 'ci', groups: ['admins'], method: 'apikey' }, current, { ok: false, reason: 'invalid-token' }],
  ])('%s', async (_name, identity, key, expected) => {
    const { token } = await tokens.issue(identity, AUD, NOW);
    expect(await tokens.verify(token, AUD, new Date(NOW.getTime() + 1_000), () => key)).toEqual(expected);
  });

  it('a token past its source is expired', async () => {
    const { token } = await tokens.issue({ kind: 'user', name: 'robot', groups: [], method: 'jwt' }, AUD, NOW, new Date(NOW.getTime() + 8_000));
    const at = (ms: number) => tokens.verify(token, AUD, new Date(NOW.getTime() + ms), () => ({ ok: false, reason: 'unknown-key' }));
    expect(await at(7_999)).toMatchObject({ ok: true });
    expect(await at(8_000)).toEqual({ ok: false, reason: 'expired-token' });
  });
});
