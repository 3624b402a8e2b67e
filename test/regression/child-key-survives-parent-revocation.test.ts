/**
 * Regression: keys minted by a leaked key survive its revocation.
 *
 * An attacker holding a leaked key K1 mints K2 with it,
 *
 *     POST /zot/auth/apikey  Authorization: Basic ci:K1   {"label":"persist"}
 *
 * and K2 with K3. The operator finds the leak and revokes K1 (`zot-gate
 * apikey revoke --id K1`, or DELETE /zot/auth/apikey?id=K1), but K2 and K3
 * keep working until K1's expiry, and nothing in the store says where they
 * came from. Now every key minted with a key records that key as its parent
 * (shown by `apikey list`, `--json` and the creation's audit event), and
 * revoking a key revokes every key it minted, transitively, within the
 * store's reload bound. A gate token minted from K1 cannot mint keys at all.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type Registry } from '../harness/registry.js';
import { cli } from '../support/cli.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { basic, ociBody, send, type RawResponse } from '../support/http.js';

const accessControl = {
  repositories: { '**': { anonymousPolicy: ['read'], policies: [{ groups: ['artifact-workloads'], actions: ['read', 'create'] }] } },
};

let registry: Registry;
let gate: GateUnderTest;

beforeAll(async () => {
  registry = await startRegistry();
  gate = await startGate({ upstream: registry.url, accessControl });
}, 60_000);

afterAll(async () => {
  await gate?.stop();
  await registry?.stop();
});

async function bootKey(label: string): Promise<{ key: string; id: string }> {
  const { key, record } = await gate.store.create({ owner: 'ci', label, expiresAt: null, scopes: [], groups: ['artifact-workloads'] });
  return { key, id: record.id };
}

/** K mints a key through zot's API, as the attacker would. */
async function mint(parentKey: string, label: string): Promise<{ key: string; id: string }> {
  const response = await send(gate.url, {
    method: 'POST',
    path: '/zot/auth/apikey',
    headers: { authorization: basic('ci', parentKey), 'content-type': 'application/json' },
    body: JSON.stringify({ label }),
  });
  expect(response.status).toBe(201);
  const body = response.json<{ uuid: string; apiKey: string }>();
  return { key: body.apiKey, id: body.uuid };
}

const upload = (key: string): Promise<RawResponse> =>
  send(gate.url, { method: 'POST', path: '/v2/team/app/blobs/uploads/', headers: { authorization: basic('ci', key) } });

/** The key is refused (401) within 5 s; polled, so a loaded machine does not flake. */
async function refusedWithin5s(key: string): Promise<number> {
  const started = Date.now();
  let status = (await upload(key)).status;
  while (status !== 401 && Date.now() - started < 5_000) {
    await new Promise((r) => setTimeout(r, 100));
    status = (await upload(key)).status;
  }
  return status;
}

describe('a key minted by a key is revoked with it', () => {
  it('revoking K1 through the API revokes K2 and K3, which K1 and K2 minted', async () => {
    const k1 = await bootKey('leaked');
    const other = await bootKey('operator');
    const k2 = await mint(k1.key, 'persist');
    const k3 = await mint(k2.key, 'persist-more');
    expect((await upload(k3.key)).status).toBe(202);
    const parents = new Map((await gate.store.list('ci')).map((r) => [r.id, r.parentId ?? null]));
    expect([parents.get(k1.id), parents.get(k2.id), parents.get(k3.id)]).toEqual([null, k1.id, k2.id]);

    const revoked = await send(gate.url, { method: 'DELETE', path: `/zot/auth/apikey?id=${k1.id}`, headers: { authorization: basic('ci', other.key) } });
    expect(revoked.status).toBe(200);
    expect(await refusedWithin5s(k2.key)).toBe(401);
    expect(await refusedWithin5s(k3.key)).toBe(401);
    expect((await upload(other.key)).status).toBe(202);
    const audit = gate.logs.filter((line) => line.audit === true && line.event === 'key-revoke').at(-1);
    expect(audit?.detail).toEqual({ keyId: k1.id, descendants: [k2.id, k3.id] });
  });

  it('revoking K1 with `zot-gate apikey revoke --id` revokes what it minted too', async () => {
    const k1 = await bootKey('leaked-cli');
    const k2 = await mint(k1.key, 'persist');
    const k3 = await mint(k2.key, 'persist-more');
    const result = await cli(['apikey', 'revoke', '--id', k1.id, '--config', gate.configPath]);
    expect(result).toEqual({ code: 0, stdout: `revoked ${k1.id} and 2 key(s) it minted\n`, stderr: '' });
    expect(await refusedWithin5s(k2.key)).toBe(401);
    expect(await refusedWithin5s(k3.key)).toBe(401);
  });

  it('the parent is shown by apikey list and --json, and named by the creation audit event', async () => {
    const k1 = await bootKey('shown');
    const k2 = await mint(k1.key, 'child');
    const created = gate.logs.filter((line) => line.audit === true && line.event === 'key-create').at(-1);
    expect(created?.detail).toMatchObject({ keyId: k2.id, parentId: k1.id });
    const json = await cli(['apikey', 'list', '--json', '--config', gate.configPath]);
    const listed = JSON.parse(json.stdout).apiKeys as Array<{ uuid: string; parentId: string | null }>;
    expect(listed.find((k) => k.uuid === k2.id)?.parentId).toBe(k1.id);
    expect(listed.find((k) => k.uuid === k1.id)?.parentId).toBeNull();
    const text = await cli(['apikey', 'list', '--config', gate.configPath]);
    const [header, ...rows] = text.stdout.trimEnd().split('\n');
    expect(header!.split('\t').at(-1)).toBe('PARENT');
    expect(rows.find((row) => row.startsWith(k2.id))!.split('\t').at(-1)).toBe(k1.id);
    expect(rows.find((row) => row.startsWith(k1.id))!.split('\t').at(-1)).toBe('-');
  });

  it('a gate token minted from K1 mints no key: 401, nothing stored', async () => {
    const k1 = await bootKey('token-source');
    const token = await send(gate.url, { path: `/zot/auth/token?service=${gate.host}&scope=repository:team/app:push`, headers: { authorization: basic('ci', k1.key) } });
    const jwt = token.json<{ token: string }>().token;
    expect(decodeJwt(jwt).kid).toBe(k1.id);
    const before = (await gate.store.list('ci')).length;
    const response = await send(gate.url, {
      method: 'POST',
      path: '/zot/auth/apikey',
      headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'via-token' }),
    });
    expect(response.status).toBe(401);
    expect(response.json()).toEqual(ociBody('UNAUTHORIZED', 'invalid credentials', 'invalid-credentials'));
    expect((await gate.store.list('ci')).length).toBe(before);
  });
});
