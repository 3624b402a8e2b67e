// Glob patterns with the semantics of github.com/bmatcuk/doublestar/v4
// `Match`, the matcher zot uses for `accessControl.repositories` keys. The
// reference is doublestar's code (v4.9.1), not only its README:
//
// - `*` matches any run of characters other than `/`; `?` one such character.
// - `[abc]`, `[a-z]`, `[!a]`, `[^a]` are character classes; `-` is literal
//   first or last. As in doublestar's code (its README says otherwise), a
//   class may match `/`.
// - `{a,b}` is alternation, nestable; `\` escapes the next character.
// - `**` forming a whole segment spans segments: `**/` matches zero or more
//   of them (`a/**/b` matches `a/b`, `**/b` matches `b`) and a final `/**`
//   also matches the bare prefix (`a/**` matches `a` and `a/b/c`).
//   Anywhere else `**` is `*`.
//
// doublestar does not search every way a pattern could match. It extends
// only the latest `*` and the latest `**/`, and when the name runs out it
// accepts only if the rest of the pattern is literally one of `*`, `**`,
// `/**`, `**/`, `/**/` (or a `{}` yielding one). So `a*/**` does not match
// `a`, and `**/*/**/` does not match `aa/b`. A RegExp would accept those; to
// decide exactly as zot does, a pattern is compiled into a program that
// follows the same search, and cached.

/** A pattern text, read lazily: tokens and "rest is empty" answers are memoised by position. */
interface Program {
  readonly text: string;
  readonly tokens: Map<number, Token>;
  readonly empty: Map<number, boolean>;
}

type Token =
  | { readonly kind: 'literal'; readonly point: number; readonly next: number }
  | { readonly kind: 'any'; readonly next: number }
  | { readonly kind: 'class'; readonly negated: boolean; readonly ranges: readonly Range[]; readonly next: number }
  | { readonly kind: 'star'; readonly next: number }
  /** `**`: a segment wildcard when it starts a segment and ends the pattern or is followed by `/`, else `*` */
  | { readonly kind: 'double'; readonly next: number; readonly atEnd: boolean; readonly slashNext: boolean }
  /** `{…}`: the pattern text with each alternative spliced in, tried in order */
  | { readonly kind: 'brace'; readonly alternatives: readonly Program[] };

type Range = readonly [low: number, high: number];

interface Compiled {
  readonly problem: string | null;
  readonly test: (name: string) => boolean;
}

class GlobProblem extends Error {}

const SLASH = 0x2f;
const MAX_ALTERNATIVES = 256;
const CACHE_LIMIT = 4096;
const EMPTY_FORMS = new Set(['', '*', '**', '/**', '**/', '/**/']);
// `**`, `**/**`, `**/*`, and the same with more leading `**` segments
const EVERYTHING = /^(?:\*\*\/)*\*\*$|^(?:\*\*\/)+\*$/u;

const cache = new Map<string, Compiled>();

/**
 * Why `pattern` cannot be used, or null when it can. Rejected: what
 * doublestar's `ValidatePattern` rejects (an unclosed `[` or `{`, an empty
 * class, a stray `}`, a trailing `\`); a class holding an unescaped `[`, `{`
 * or `}` (or `,` inside `{}`), where doublestar's brace scanning and class
 * reading disagree; more than 256 alternatives.
 */
export function globProblem(pattern: string): string | null {
  return compiled(pattern).problem;
}

/** A matcher for `pattern`; it never matches when the pattern has a problem. */
export function compileGlob(pattern: string): (name: string) => boolean {
  return compiled(pattern).test;
}

/** Whether `name` matches `pattern` (see `compileGlob`). */
export function matchGlob(pattern: string, name: string): boolean {
  return compiled(pattern).test(name);
}

/**
 * Whether `pattern` matches every repository name. Recognises the forms
 * operators write for "everything": `**`, and `**` segments ending in a `**`
 * or `*` segment, also as one alternative of a `{}`. Anything cleverer is
 * reported as not covering, which errs on the side of denying.
 */
export function globCoversEveryName(pattern: string): boolean {
  return globProblem(pattern) === null && bracesWholeSegments(pattern) && expansions(pattern).some((text) => EVERYTHING.test(text));
}

/**
 * Every `{…}` spans whole segments. doublestar reads each alternative as if
 * it began a segment, but what follows the `}` stays where it was: `*{}*`
 * expands to `**` yet is two `*` that never cross a `/`.
 */
function bracesWholeSegments(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === '{') {
      const close = closingBrace(pattern, i);
      if ((i > 0 && pattern[i - 1] !== '/') || (close < pattern.length - 1 && pattern[close + 1] !== '/')) return false;
    }
  }
  return true;
}

function compiled(pattern: string): Compiled {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  const entry = compile(pattern);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(pattern, entry);
  return entry;
}

function compile(pattern: string): Compiled {
  try {
    checkSyntax(pattern);
    if (expansions(pattern).length > MAX_ALTERNATIVES) {
      throw new GlobProblem(`more than ${MAX_ALTERNATIVES} alternatives`);
    }
  } catch (error) {
    if (!(error instanceof GlobProblem)) throw error;
    return { problem: error.message, test: () => false };
  }
  const root = program(pattern);
  return { problem: null, test: (name) => run(root, name, 0, 0) };
}

/** doublestar's ValidatePattern, then the class rule described at `globProblem`. */
function checkSyntax(pattern: string): void {
  const classes: Array<{ readonly start: number; readonly end: number; readonly inBraces: boolean }> = [];
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '\\') {
      if (++i >= pattern.length) throw new GlobProblem('"\\" at the end escapes nothing');
    } else if (char === '[') {
      const end = classEnd(pattern, i);
      classes.push({ start: i, end, inBraces: depth > 0 });
      i = end;
    } else if (char === '{') {
      depth++;
    } else if (char === '}') {
      if (depth === 0) throw new GlobProblem('"}" without a matching "{"');
      depth--;
    }
  }
  if (depth > 0) throw new GlobProblem('unclosed "{"');
  for (const { start, end, inBraces } of classes) {
    for (let i = start + 1; i < end; i++) {
      const char = pattern[i] as string;
      if (char === '\\') i++;
      else if ('[{}'.includes(char) || (inBraces && char === ',')) {
        throw new GlobProblem(`"${char}" inside a character class must be escaped`);
      }
    }
  }
}

/** Index of the `]` closing the class opened at `open`. */
function classEnd(pattern: string, open: number): number {
  let i = open + 1;
  if (pattern[i] === '!' || pattern[i] === '^') i++;
  if (i >= pattern.length) throw new GlobProblem('unclosed "["');
  if (pattern[i] === ']') throw new GlobProblem('empty character class "[]"');
  for (; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']') return i;
  }
  throw new GlobProblem('unclosed "["');
}

/** Every brace-free text the pattern expands to (stops counting past the limit). */
function expansions(text: string): string[] {
  const start = firstBrace(text);
  if (start < 0) return [text];
  const close = closingBrace(text, start);
  const out: string[] = [];
  for (const alternative of alternatives(text.slice(start + 1, close))) {
    out.push(...expansions(text.slice(0, start) + alternative + text.slice(close + 1)));
    if (out.length > MAX_ALTERNATIVES) break;
  }
  return out;
}

function firstBrace(text: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '{') return i;
  }
  return -1;
}

function program(text: string): Program {
  return { text, tokens: new Map(), empty: new Map() };
}

// doublestar's search from `pos` in the pattern and `at` in the name. Only
// the latest `*` (star) and the latest whole-segment `**/` (dirs) can be
// widened on a mismatch; a `{}` runs the rest once per alternative.
function run(
  p: Program, name: string, pos: number, at: number, segmentStart = true,
  starPos = -1, starAt = -1, dirsPos = -1, dirsAt = -1,
): boolean {
  scan: while (at < name.length) {
    if (pos < p.text.length) {
      const token = tokenAt(p, pos);
      switch (token.kind) {
        case 'brace': {
          // each alternative is scanned as if it began a segment, as doublestar does
          const state = [at, true, starPos, starAt, dirsPos, dirsAt] as const;
          return token.alternatives.some((alternative) => run(alternative, name, pos, ...state));
        }
        case 'double':
        case 'star':
          if (token.kind === 'double' && segmentStart) {
            if (token.atEnd) return true;
            if (token.slashNext) {
              pos = dirsPos = token.next + 1;
              dirsAt = at;
              starPos = -1;
              continue scan;
            }
          }
          // a `**` that is not a whole segment is a `*`
          pos = starPos = token.next;
          starAt = at;
          segmentStart = false;
          continue scan;
        default: {
          const point = name.codePointAt(at) as number;
          if (accepts(token, point)) {
            at += width(point);
            pos = token.next;
            segmentStart = token.kind === 'literal' && point === SLASH;
            continue scan;
          }
        }
      }
    }
    const widened = starPos >= 0 ? name.codePointAt(starAt) : undefined;
    if (widened !== undefined && widened !== SLASH) {
      starAt += width(widened);
      pos = starPos;
      at = starAt;
      segmentStart = false;
      continue;
    }
    if (dirsPos >= 0) {
      const slash = name.indexOf('/', dirsAt);
      if (slash < 0) return false;
      pos = dirsPos;
      at = dirsAt = slash + 1;
      segmentStart = true;
      continue;
    }
    return false;
  }
  return restIsEmpty(p, pos);
}

function width(point: number): number {
  return point > 0xffff ? 2 : 1;
}

function accepts(token: Extract<Token, { kind: 'literal' | 'any' | 'class' }>, point: number): boolean {
  switch (token.kind) {
    case 'literal':
      return point === token.point;
    case 'any':
      return point !== SLASH;
    case 'class':
      return token.ranges.some(([low, high]) => low <= point && point <= high) !== token.negated;
  }
}

function tokenAt(p: Program, pos: number): Token {
  let token = p.tokens.get(pos);
  if (token === undefined) {
    token = readToken(p.text, pos);
    p.tokens.set(pos, token);
  }
  return token;
}

function readToken(text: string, pos: number): Token {
  switch (text[pos]) {
    case '*': {
      if (text[pos + 1] !== '*') return { kind: 'star', next: pos + 1 };
      const next = pos + 2;
      return { kind: 'double', next, atEnd: next === text.length, slashNext: text[next] === '/' };
    }
    case '?':
      return { kind: 'any', next: pos + 1 };
    case '[':
      return readClass(text, pos);
    case '{': {
      const close = closingBrace(text, pos);
      const rest = text.slice(close + 1);
      const spliced = alternatives(text.slice(pos + 1, close)).map((alternative) =>
        program(text.slice(0, pos) + alternative + rest),
      );
      return { kind: 'brace', alternatives: spliced };
    }
    default: {
      const at = text[pos] === '\\' ? pos + 1 : pos;
      const point = text.codePointAt(at) as number;
      return { kind: 'literal', point, next: at + width(point) };
    }
  }
}

/** A class as doublestar reads it: `-` between two characters is a range (possibly empty), else literal. */
function readClass(text: string, open: number): Token {
  let i = open + 1;
  const negated = text[i] === '!' || text[i] === '^';
  if (negated) i++;
  const read = (): number => {
    if (text[i] === '\\') i++;
    const point = text.codePointAt(i) as number;
    i += width(point);
    return point;
  };
  const ranges: Range[] = [];
  let last: number | null = null;
  while (text[i] !== ']') {
    if (last !== null && text[i] === '-' && text[i + 1] !== ']') {
      i++;
      ranges.push([last, read()]);
      last = null;
    } else {
      last = read();
      ranges.push([last, last]);
    }
  }
  return { kind: 'class', negated, ranges, next: i + 1 };
}

function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const char = text[i];
    if (char === '\\') i++;
    else if (char === '{') depth++;
    else if (char === '}' && --depth === 0) return i;
  }
  throw new GlobProblem('unclosed "{"');
}

/** The top-level comma-separated parts of a brace body. */
function alternatives(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const char = body[i];
    if (char === '\\') i++;
    else if (char === '{') depth++;
    else if (char === '}') depth--;
    else if (char === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts;
}

function restIsEmpty(p: Program, pos: number): boolean {
  let empty = p.empty.get(pos);
  if (empty === undefined) {
    empty = emptyForm(p.text.slice(pos));
    p.empty.set(pos, empty);
  }
  return empty;
}

/** doublestar's test that the rest of a pattern may match nothing: a fixed list, not a search. */
function emptyForm(rest: string): boolean {
  if (EMPTY_FORMS.has(rest)) return true;
  if (rest[0] !== '{') return false;
  const close = closingBrace(rest, 0);
  const after = rest.slice(close + 1);
  return alternatives(rest.slice(1, close)).some((alternative) => emptyForm(alternative + after));
}
