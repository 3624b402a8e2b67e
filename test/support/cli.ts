/** Runs the built CLI (`node dist/cli.js`) as a separate process, as an operator would. */
import { run, type ManagedProcess } from '../harness/process.js';

export function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, ['dist/cli.js', ...args], { env: { ...process.env, ...env }, timeoutMs: 20_000 });
}

/** The JSON log lines a `serve` process has written to stderr so far, parsed. */
export function logsOf(proc: ManagedProcess): Array<Record<string, unknown>> {
  return proc.stderr().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
}
