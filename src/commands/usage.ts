/** Shared pieces of the command line: usage errors (exit 2) and option parsing. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { defaultConfigPath, loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';

/** Bad usage: exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `usage: zot-gate <command> [--config FILE]

commands:
  serve                                 run the gate
  check-config                          validate the config, print every problem
  explain [--user U] [--groups a,b] --repo R --action read|create|update|delete [--tag T]
  apikey create --user U [--groups a,b] [--label L] [--expires 30d] [--scope GLOB]... [--json]
  apikey list [--user U] [--json]
  apikey revoke --id UUID | --user U --all
  user list [--json]                    users, their groups, the IdP account each name is bound to
  user release --user U                 unbind U from its IdP account; its next sign-in binds it again

--config defaults to $ZOT_GATE_CONFIG, else config/zot-gate.json`;

export type Options = ParseArgsConfig['options'];

/** Parses a command's options; unknown options and stray arguments are usage errors. */
export function parse<T extends Options>(args: string[], options: T) {
  try {
    return parseArgs({ args, options: { config: { type: 'string' }, ...options }, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function configFrom(values: { config?: string | boolean | (string | boolean)[] | undefined }): Config {
  return loadConfig(typeof values.config === 'string' ? values.config : defaultConfigPath());
}

export function required(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

export function list(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  return [...new Set(value.split(',').map((s) => s.trim()).filter((s) => s !== ''))].sort();
}
