/** Runs the built CLI (`node dist/cli.js`) as a separate process, as an operator would. */
import { run } from '../harness/process.js';

export function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, ['dist/cli.js', ...args], { env: { ...process.env, ...env }, timeoutMs: 20_000 });
}
