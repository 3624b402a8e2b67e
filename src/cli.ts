#!/usr/bin/env -S node --max-semi-space-size=4
/**
 * The command line. Exit status: 0 success, 1 a problem the operator can fix
 * (the message says what), 2 bad usage. Only results go to stdout.
 */
import { apikeyCommand } from './commands/apikey.js';
import { checkConfigCommand } from './commands/check-config.js';
import { explainCommand } from './commands/explain.js';
import { USAGE, UsageError } from './commands/usage.js';
import { userCommand } from './commands/user.js';
import { ConfigError } from './config/load.js';
import { GateError } from './errors.js';

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'serve':
      // loaded only here: the other commands need neither fastify nor undici
      return (await import('./commands/serve.js')).serveCommand(args);
    case 'check-config':
      return checkConfigCommand(args, out, err);
    case 'explain':
      return explainCommand(args, out);
    case 'apikey':
      return apikeyCommand(args, out);
    case 'user':
      return userCommand(args, out);
    case undefined:
      throw new UsageError('a command is needed');
    case 'help':
    case '--help':
    case '-h':
      out(USAGE);
      return 0;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      err(`zot-gate: ${error.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (error instanceof ConfigError || error instanceof GateError) {
      err(`zot-gate: ${error.message}`);
      process.exitCode = 1;
    } else {
      err(`zot-gate: unexpected error: ${(error as Error).stack ?? String(error)}`);
      process.exitCode = 1;
    }
  },
);
