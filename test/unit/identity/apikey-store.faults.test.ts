/**
 * How the file store behaves when its file or its disk fails under a running
 * gate: the failure is told once per change of state (not once per request),
 * a file that does not read is never written over, and a filesystem error on
 * a write is `STORE_UNWRITABLE`, naming the file, with nothing left behind.
 * The full and read-only disks themselves are in test/integration/keystore-faults.test.ts.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GateError } from '../../../src/errors.js';
import { API_KEY_STORE_FILE, ApiKeyStore } from '../../../src/identity/apikey-store.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apikey-faults-'));
  path = join(dir, API_KEY_STORE_FILE);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function clockAt(start: number): { now: number; (): number } {
  const clock = (() => clock.now) as { now: number; (): number };
  clock.now = start;
  return clock;
}

describe('ApiKeyStore when its file fails under a running gate', () => {
  it('tells onReloadProblem once when the file turns corrupt, again when the problem changes, and null once it reads', async () => {
    const clock = clockAt(T0);
    const told: Array<string | null> = [];
    const gate = await ApiKeyStore.open(path, { clock, onReloadProblem: (problem) => told.push(problem?.message ?? null) });
    const { key } = await gate.create({ owner: 'ci', label: 'a', expiresAt: null, scopes: [] });
    const good = await readFile(path, 'utf8');
    const lookups = () => {
      for (let i = 0; i < 5; i += 1) {
        clock.now += 1_000;
        try {
          gate.lookup(key, new Date(T0));
        } catch {
          // refused while the file is bad; what matters here is what was told
        }
      }
    };
    lookups();
    expect(told).toEqual([]);
    await writeFile(path, '{"version":1,"keys":[],"users":[]}\n,');
    lookups();
    await writeFile(path, '[]');
    lookups();
    await writeFile(path, good);
    lookups();
    expect(told).toEqual([
      `${path}: not valid JSON at line 2, column 1; refusing to treat it as empty`,
      `${path}: expected {"version": 1, "keys": [...], "users": [...]}; refusing to treat it as empty`,
      null,
    ]);
    expect(gate.lookup(key, new Date(T0)).ok).toBe(true);
  });

  it('never writes over a corrupt file: every mutation, including a use write-back, is refused', async () => {
    const clock = clockAt(T0);
    const flushErrors: unknown[] = [];
    const gate = await ApiKeyStore.open(path, { clock, onFlushError: (error) => flushErrors.push(error), onReloadProblem: () => {} });
    const { record } = await gate.create({ owner: 'ci', label: 'a', expiresAt: null, scopes: [] });
    await writeFile(path, '{"version":1,"keys":[');
    const corrupt = { code: 'STORE_CORRUPT', message: `${path}: not valid JSON; refusing to treat it as empty` };
    await expect(gate.create({ owner: 'ci', label: 'b', expiresAt: null, scopes: [] })).rejects.toMatchObject(corrupt);
    await expect(gate.revoke(record.id)).rejects.toMatchObject(corrupt);
    await expect(gate.setUserGroups('ci', ['admins'])).rejects.toMatchObject(corrupt);
    await gate.recordUse(record.id, new Date(T0));
    expect(flushErrors).toEqual([expect.objectContaining(corrupt)]);
    expect(await readFile(path, 'utf8')).toBe('{"version":1,"keys":[');
    expect((await readdir(dir)).sort()).toEqual([API_KEY_STORE_FILE]);
  });

  it('a filesystem error on a write is STORE_UNWRITABLE naming the file, and the file is left as it was', async () => {
    const gate = await ApiKeyStore.open(path);
    await gate.create({ owner: 'ci', label: 'a', expiresAt: null, scopes: [] });
    const before = await readFile(path, 'utf8');
    // A directory where the lock file goes: the lock cannot be read, a filesystem error like any other.
    await mkdir(`${path}.lock`);
    const error = (await gate.create({ owner: 'ci', label: 'b', expiresAt: null, scopes: [] }).catch((e: unknown) => e)) as GateError;
    expect(error).toMatchObject({
      name: 'GateError',
      code: 'STORE_UNWRITABLE',
      status: 503,
      message: `${path}: cannot write the API key store: illegal operation on a directory (EISDIR)`,
      cause: { code: 'EISDIR' },
    });
    expect(await readFile(path, 'utf8')).toBe(before);
    expect((await readdir(dir)).sort()).toEqual([API_KEY_STORE_FILE, `${API_KEY_STORE_FILE}.lock`]);
    expect((await gate.list()).map((r) => r.label)).toEqual(['a']);
  });

  it('a data directory that cannot be made is STORE_UNWRITABLE naming the file', async () => {
    await writeFile(join(dir, 'data'), 'a file where the directory should be');
    const inside = join(dir, 'data', API_KEY_STORE_FILE);
    await expect(ApiKeyStore.open(inside)).rejects.toMatchObject({
      code: 'STORE_UNWRITABLE',
      message: `${inside}: cannot write the API key store: file already exists (EEXIST)`,
    });
  });
});
