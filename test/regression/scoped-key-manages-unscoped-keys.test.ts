/**
 * Regression: a scoped key manages its owner's other keys.
 *
 * A CI key limited to `ci/**` leaks. With it, the attacker lists the owner's
 * keys and revokes the unscoped ones (a denial of service on every other
 * pipeline), or learns their ids, labels and scopes:
 *
 *     GET    /zot/auth/apikey            Authorization: Basic alice:<ci/** key>
 *     DELETE /zot/auth/apikey?id=<the owner's unscoped key>
 *
 * Now a caller authenticated by a key sees and revokes only keys whose
 * scopes lie within its own: every glob of the other key is covered by one of
 * the caller's, by glob inclusion (`ci/**` covers `ci/app-*`), not by string
 * equality. An unscoped key covers every key of its owner. A key outside is
 * treated like an unknown id: not listed, and DELETE answers 200 changing
 * nothing, as zot does for someone else's key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type Registry } from '../harness/registry.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { basic, send } from '../support/http.js';

const accessControl = {
  repositories: { '**': { anonymousPolicy: ['read'], policies: [{ groups: ['artifact-workloads'], actions: ['read', 'create'] }] } },
};

let registry: Registry;
let gate: GateUnderTest;
const keys: Record<string, { key: string; id: string }> = {};

const SCOPES: Record<string, string[]> = {
  unscoped: [],
  ci: ['ci/**'],
  ciApps: ['ci/app-*', 'ci/tools/**'],
  ciOne: ['ci/app/one'],
  team: ['team/**'],
  mixed: ['ci/**', 'team/x'],
  everything: ['**'],
};

beforeAll(async () => {
  registry = await startRegistry();
  gate = await startGate({ upstream: registry.url, accessControl });
  for (const [label, scopes] of Object.entries(SCOPES)) {
    const { key, record } = await gate.store.create({ owner: 'alice', label, expiresAt: null, scopes, groups: ['artifact-workloads'] });
    keys[label] = { key, id: record.id };
  }
}, 60_000);

afterAll(async () => {
  await gate?.stop();
  await registry?.stop();
});

const as = (label: string) => ({ authorization: basic('alice', keys[label]!.key) });

async function visible(label: string): Promise<string[]> {
  const response = await send(gate.url, { path: '/zot/auth/apikey', headers: as(label) });
  expect(response.status).toBe(200);
  return response.json<{ apiKeys: Array<{ label: string }> }>().apiKeys.map((k) => k.label).sort();
}

describe('a key sees and revokes only keys within its own scopes', () => {
  it.each<[string, string[]]>([
    ['ci', ['ci', 'ciApps', 'ciOne']],
    ['ciApps', ['ciApps']],
    ['ciOne', ['ciOne']],
    ['team', ['team']],
    ['mixed', ['ci', 'ciApps', 'ciOne', 'mixed']],
    ['everything', Object.keys(SCOPES).sort()],
    ['unscoped', Object.keys(SCOPES).sort()],
  ])('GET with the %s key lists %j', async (caller, expected) => {
    expect(await visible(caller)).toEqual(expected);
  });

  it('the ci/** key cannot revoke the unscoped key: 200, nothing revoked, the key still works', async () => {
    const response = await send(gate.url, { method: 'DELETE', path: `/zot/auth/apikey?id=${keys.unscoped!.id}`, headers: as('ci') });
    expect(response.status).toBe(200);
    expect((await gate.store.list('alice')).some((r) => r.id === keys.unscoped!.id)).toBe(true);
    const upload = await send(gate.url, { method: 'POST', path: '/v2/team/app/blobs/uploads/', headers: as('unscoped') });
    expect(upload.status).toBe(202);
  });

  it('nor a key with one glob outside its scopes (mixed: ci/** and team/x)', async () => {
    await send(gate.url, { method: 'DELETE', path: `/zot/auth/apikey?id=${keys.mixed!.id}`, headers: as('ci') });
    expect((await gate.store.list('alice')).some((r) => r.id === keys.mixed!.id)).toBe(true);
  });

  it('the ci/** key revokes a key within it (ci/app-*, ci/tools/**)', async () => {
    const response = await send(gate.url, { method: 'DELETE', path: `/zot/auth/apikey?id=${keys.ciApps!.id}`, headers: as('ci') });
    expect(response.status).toBe(200);
    expect((await gate.store.list('alice')).some((r) => r.id === keys.ciApps!.id)).toBe(false);
  });

  it('the unscoped key revokes any key of its owner', async () => {
    const response = await send(gate.url, { method: 'DELETE', path: `/zot/auth/apikey?id=${keys.team!.id}`, headers: as('unscoped') });
    expect(response.status).toBe(200);
    expect((await gate.store.list('alice')).some((r) => r.id === keys.team!.id)).toBe(false);
  });
});
