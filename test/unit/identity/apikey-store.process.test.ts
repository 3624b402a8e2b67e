/**
 * The store shared by real processes: the running gate (this process) and the
 * `apikey` command (a child). No `dist/` is needed: the store's modules are
 * transpiled into a temp dir that the child fixture imports.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY_STORE_FILE, ApiKeyStore } from '../../../src/identity/apikey-store.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const fixture = join(here, 'fixtures', 'apikey-child.mjs');
const MODULES = ['errors.ts', 'policy/api-key.ts', 'policy/duration.ts', 'policy/glob.ts', 'policy/glob-cover.ts', 'policy/rfc3339.ts', 'policy/subject-binding.ts', 'identity/types.ts', 'identity/apikey.ts', 'identity/atomic-file.ts', 'identity/file-lock.ts', 'identity/apikey-file.ts', 'identity/apikey-store.ts'];
const run = promisify(execFile);

let moduleDir: string;
let dir: string;
let path: string;

/** Transpiles the store's sources as they are now, so the child runs this very code. */
async function transpileStore(into: string): Promise<void> {
  for (const module of MODULES) {
    const source = await readFile(join(root, 'src', module), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    const out = join(into, module.replace(/\.ts$/, '.js'));
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, outputText);
  }
  await writeFile(join(into, 'package.json'), '{"type":"module"}');
  await symlink(join(root, 'node_modules'), join(into, 'node_modules'));
}

async function child<T>(...args: string[]): Promise<T> {
  const { stdout } = await run(process.execPath, [fixture, moduleDir, path, ...args]);
  return JSON.parse(stdout) as T;
}

beforeAll(async () => {
  moduleDir = await mkdtemp(join(tmpdir(), 'apikey-modules-'));
  await transpileStore(moduleDir);
});
afterAll(async () => {
  await rm(moduleDir, { recursive: true, force: true });
});
beforeEach(async (context) => {
  dir = await mkdtemp(join(tmpdir(), 'apikey-process-'));
  path = join(dir, API_KEY_STORE_FILE);
  context.onTestFinished(() => rm(dir, { recursive: true, force: true }));
});

describe('ApiKeyStore across processes', () => {
  it('loses no key when two child processes and the gate create keys at the same time', async () => {
    const gate = await ApiKeyStore.open(path);
    const [fromA, fromB, fromGate] = await Promise.all([
      child<{ key: string; id: string }[]>('create', 'a', '15'),
      child<{ key: string; id: string }[]>('create', 'b', '15'),
      Promise.all(Array.from({ length: 15 }, (_, i) => gate.create({ owner: 'gate', label: `g${i}`, expiresAt: null, scopes: [] }))),
    ]);
    const expected = [...fromA, ...fromB, ...fromGate.map(({ record }) => record)].map(({ id }) => id).sort();
    expect((await gate.list()).map((record) => record.id).sort()).toEqual(expected);
    expect([...fromA, ...fromB].map(({ key }) => gate.lookup(key, new Date()).ok)).toEqual(Array(30).fill(true));
    const gateKey = fromGate[0]?.key ?? '';
    expect(await child('lookup', gateKey)).toEqual({ ok: true, owner: 'gate', groups: [] });
  });

  it('a key revoked by another process stops working in the running gate within 1.1 s', async () => {
    const setup = await ApiKeyStore.open(path);
    const { key, record } = await setup.create({ owner: 'ci', label: 'push', expiresAt: null, scopes: [] });
    const gate = await ApiKeyStore.open(path);
    expect(gate.lookup(key, new Date()).ok).toBe(true);
    expect(await child('revoke', record.id)).toBe(true);
    const revokedAt = Date.now();
    while (gate.lookup(key, new Date()).ok && Date.now() - revokedAt < 2_000) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(gate.lookup(key, new Date())).toEqual({ ok: false, reason: 'unknown-key' });
    expect(Date.now() - revokedAt).toBeLessThan(1_100);
  });

  it('a process killed while holding the lock does not block the next writer', async () => {
    await expect(child('die-holding-lock')).rejects.toMatchObject({ signal: 'SIGKILL' });
    expect((await stat(`${path}.lock`)).isFile()).toBe(true);
    const gate = await ApiKeyStore.open(path, { lock: { timeoutMs: 1_000 } });
    const started = Date.now();
    await gate.create({ owner: 'ci', label: 'after-crash', expiresAt: null, scopes: [] });
    expect(Date.now() - started).toBeLessThan(500);
    expect((await gate.list()).map((record) => record.label)).toEqual(['after-crash']);
    await expect(stat(`${path}.lock`)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
