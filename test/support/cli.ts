/** Runs the built CLI (`node dist/cli.js`) as a separate process, as an operator would. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { freePort } from '../harness/ports.js';
import { run, startProcess, waitForUrl, type ManagedProcess } from '../harness/process.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

export function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, ['dist/cli.js', ...args], { env: { ...process.env, ...env }, timeoutMs: 20_000 });
}

/** The JSON log lines a `serve` process has written to stderr so far, parsed. */
export function logsOf(proc: ManagedProcess): Array<Record<string, unknown>> {
  return proc.stderr().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
}

export interface ServedWithKey {
  readonly proc: ManagedProcess;
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** `<dir>/zot-gate.json` */
  readonly configPath: string;
  /** the API key `apikey create` printed */
  readonly key: string;
}

/**
 * A gate as an operator starts one: `config(port)` (on a free port; JSON
 * text or an object) written to `<dir>/zot-gate.json`, a key made with
 * `zot-gate apikey create --user … --groups …` (it must succeed, silently),
 * then `zot-gate serve` started and its healthz answering (else it is
 * stopped and the failure thrown). The caller stops `proc`.
 */
export async function serveWithCliKey(dir: string, config: (port: number) => string | object, owner: { readonly user: string; readonly groups: string }): Promise<ServedWithKey> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const configPath = join(dir, 'zot-gate.json');
  const text = config(port);
  await writeFile(configPath, typeof text === 'string' ? text : JSON.stringify(text));
  const created = await cli(['apikey', 'create', '--user', owner.user, '--groups', owner.groups, '--config', configPath]);
  expect([created.code, created.stderr]).toEqual([0, '']);
  const proc = await startProcess(process.execPath, [join(root, 'dist/cli.js'), 'serve', '--config', configPath], { cwd: root });
  const url = `http://127.0.0.1:${port}`;
  await waitForUrl(proc, `${url}/-/healthz`).catch(async (error: unknown) => {
    await proc.stop();
    throw error;
  });
  return { proc, port, url, configPath, key: created.stdout.trim() };
}
