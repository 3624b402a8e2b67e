/**
 * Reads a config file, reports every problem at once, applies defaults and
 * returns the frozen result. The only adapter here is the file read; the
 * checks themselves are in `validate.ts`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import { GateError } from '../errors.js';
import { ConfigFileSchema, type ConfigFile } from './schema.js';
import { Problems, formatProblem, type Problem } from './problems.js';
import { SEMANTIC_CHECKS, normalize } from './validate.js';
import type { Config } from './types.js';

/** Thrown when a config file has problems; `problems` holds every one. */
export class ConfigError extends GateError {
  readonly problems: readonly Problem[];

  constructor(source: string, problems: readonly Problem[]) {
    super('CONFIG_INVALID', `${source}: ${problems.length} problem(s)\n${problems.map(formatProblem).join('\n')}`);
    this.problems = problems;
  }
}

/** The default config path: `ZOT_GATE_CONFIG`, else `config/zot-gate.json`. */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.ZOT_GATE_CONFIG ?? 'config/zot-gate.json';
}

/** Loads, validates and freezes a config file. Throws ConfigError listing every problem. */
export function loadConfig(path: string): Config {
  const source = resolve(path);
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (error) {
    throw new ConfigError(source, [{ subject: '(file)', problem: `cannot read: ${(error as Error).message}`, rule: 'file' }]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(source, [{ subject: '(file)', problem: (error as Error).message, rule: 'json' }]);
  }
  return parseConfig(raw, source);
}

/** Validates an already-parsed config object; `source` names it and anchors relative paths. */
export function parseConfig(raw: unknown, source: string): Config {
  const problems = new Problems();
  const missing = new Set<string>();
  for (const error of Value.Errors(ConfigFileSchema, raw)) {
    if (isNoise(error.type)) continue;
    // "is required" says it all; the type error TypeBox adds for the same absent field is noise.
    if (error.type === ValueErrorType.ObjectRequiredProperty) missing.add(error.path);
    else if (error.value === undefined && missing.has(error.path)) continue;
    problems.add(pointerPath(error.path), schemaMessage(error.type, error.message, error.value), ruleName(error.type));
  }
  addSemanticProblems(raw, source, problems);
  if (problems.list.length > 0) throw new ConfigError(source, problems.list);
  return deepFreeze(normalize(raw as ConfigFile, source));
}

/**
 * The semantic checks run even when the shape is wrong, so one pass shows
 * every mistake; on a mis-shaped file they may trip over a wrong type, so
 * they run on a best-effort basis and their findings under a subject the
 * schema already reported are left out.
 */
function addSemanticProblems(raw: unknown, source: string, problems: Problems): void {
  const shapeSubjects = problems.list.map((p) => p.subject);
  const semantic = new Problems();
  for (const check of SEMANTIC_CHECKS) {
    try {
      check(raw as ConfigFile, source, semantic);
    } catch {
      // a mis-shaped section: the schema's problems already say why
    }
  }
  const covered = (subject: string) =>
    shapeSubjects.some((s) => s === '(file)' ? false : subject === s || subject.startsWith(`${s}.`) || subject.startsWith(`${s}[`));
  for (const problem of semantic.list) if (!covered(problem.subject)) problems.list.push(problem);
}

// A failed union also reports each branch; the union's own line says enough.
function isNoise(type: ValueErrorType): boolean {
  return type === ValueErrorType.Literal;
}

function pointerPath(pointer: string): Array<string | number> {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

function schemaMessage(type: ValueErrorType, message: string, value: unknown): string {
  if (type === ValueErrorType.ObjectAdditionalProperties) return 'unknown field (a typo?)';
  if (type === ValueErrorType.ObjectRequiredProperty) return 'is required';
  if (type === ValueErrorType.Union) return `${JSON.stringify(value)} is not one of the allowed values`;
  return message.charAt(0).toLowerCase() + message.slice(1);
}

function ruleName(type: ValueErrorType): string {
  const name = ValueErrorType[type] ?? 'schema';
  return name.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
