/**
 * The gate as an operator runs it: `node dist/cli.js serve` in its own
 * process, so its memory can be read from /proc and it does not share an
 * event loop with the load generators.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { freePort } from '../harness/ports.js';
import { run, startProcess, waitForPort } from '../harness/process.js';
import type { Target } from './peers.js';

/** The running gate, and the API key the bench authenticates with. */
export interface GateProcess extends Target {
  readonly pid: number;
  /** `bench:zak_…`, as curl `-u` and skopeo `--creds` take it */
  readonly username: string;
  readonly apiKey: string;
}

export interface GateProcessOptions {
  /** extra `node` flags, e.g. `--cpu-prof` */
  readonly nodeArgs?: readonly string[];
  /** log level of the gate; `info` (the default) is what a deployment runs */
  readonly logLevel?: string;
}

const CLI = resolve('dist/cli.js');

/**
 * Writes a config (anonymous read everywhere, read and create for the group
 * `bench`, no fail delay), creates an API key for the user `bench` with the
 * CLI before the gate starts (so no reload wait), then starts `serve`.
 */
export async function startGateProcess(dir: string, upstreamUrl: string, opts: GateProcessOptions = {}): Promise<GateProcess> {
  const port = await freePort();
  const configPath = join(dir, 'zot-gate.json');
  const config = {
    listen: { host: '127.0.0.1', port },
    upstream: { url: upstreamUrl },
    dataDir: join(dir, 'data'),
    log: { level: opts.logLevel ?? 'info' },
    auth: { failDelay: 0 },
    accessControl: {
      repositories: { '**': { anonymousPolicy: ['read'], policies: [{ groups: ['bench'], actions: ['read', 'create'] }] } },
    },
  };
  await writeFile(configPath, JSON.stringify(config));
  const created = await run(process.execPath, [CLI, 'apikey', 'create', '--user', 'bench', '--groups', 'bench', '--config', configPath]);
  const apiKey = created.stdout.trim();
  if (created.code !== 0 || !apiKey.startsWith('zak_')) throw new Error(`apikey create failed (exit ${created.code}): ${created.stderr}`);
  // As the Dockerfile and the launchd job run it.
  const proc = await startProcess(process.execPath, ['--max-semi-space-size=4', ...(opts.nodeArgs ?? []), CLI, 'serve', '--config', configPath]);
  await waitForPort(proc, port);
  return { name: 'gate', host: `127.0.0.1:${port}`, proc, pid: proc.pid, username: 'bench', apiKey };
}

/** VmHWM and VmRSS of a process, in bytes. */
export interface Memory {
  readonly peak: number;
  readonly current: number;
}

/** Reads /proc/PID/status. */
export async function memoryOf(pid: number): Promise<Memory> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return { peak: kib(status, 'VmHWM'), current: kib(status, 'VmRSS') };
}

/**
 * Resets VmHWM to the current RSS (proc(5), clear_refs value 5), so the next
 * reading is the peak of what follows rather than of the process's life.
 */
export async function resetPeak(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
}

function kib(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (match === null) throw new Error(`/proc status has no ${field}`);
  return Number(match[1]) * 1024;
}
