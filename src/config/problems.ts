/**
 * Config problems are collected, never thrown one by one: an operator fixes
 * every mistake in one pass. Each reads `subject: problem (rule)`.
 */
export interface Problem {
  /** a JS-like path into the file, e.g. `accessControl.repositories["**"].policies[0].actions[1]` */
  readonly subject: string;
  readonly problem: string;
  /** a short kebab-case name of the rule broken, e.g. `enum`, `duration`, `glob` */
  readonly rule: string;
}

export function formatProblem(p: Problem): string {
  return `${p.subject}: ${p.problem} (${p.rule})`;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `["auth", "apikey", "maxLifetime"]` → `auth.apikey.maxLifetime`; odd keys are quoted. */
export function subjectOf(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (IDENTIFIER.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out === '' ? '(file)' : out;
}

/** Collects problems under a path prefix. */
export class Problems {
  readonly list: Problem[] = [];

  add(path: ReadonlyArray<string | number>, problem: string, rule: string): void {
    this.list.push({ subject: subjectOf(path), problem, rule });
  }
}
