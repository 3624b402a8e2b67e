/**
 * `zot-gate check-config`: every problem in the file, one per line; exit 1 if
 * any. Warnings (`warning: subject: text`, on stderr) alone exit 0.
 */
import { ConfigError } from '../config/load.js';
import { formatProblem } from '../config/problems.js';
import { configWarnings, formatWarning } from '../config/warnings.js';
import { configFrom, parse } from './usage.js';

export function checkConfigCommand(args: string[], out: (line: string) => void, err: (line: string) => void): number {
  const values = parse(args, {});
  try {
    const config = configFrom(values);
    for (const warning of configWarnings(config)) err(formatWarning(warning));
    out(`${config.source}: ok`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) err(formatProblem(problem));
    err(`${error.problems.length} problem(s) in the config`);
    return 1;
  }
}
