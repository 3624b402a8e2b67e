// Glob inclusion: does every repository name `inner` matches also match
// `outer`? It decides which API keys a scoped key may see, revoke and mint
// (policy/api-key.ts).
//
// The answer must hold for the matcher the gate really runs (glob.ts, which
// follows doublestar's search and its quirks), so both patterns are turned
// into automata over what that search does: a state is a position in the
// pattern text, a `*` may eat characters other than `/`, a whole-segment
// `**/` may skip anything that ends in `/`, a final whole-segment `**` eats
// the rest, and the name may end only where doublestar's fixed list of
// "the rest matches nothing" forms allows. Inclusion is then a search of the
// pair of subset automata for a name `inner` accepts and `outer` does not.
//
// The automaton is exact for `outer` only where doublestar's search is
// complete: it remembers only the latest `**/`, which loses matches when the
// pattern can end inside a later `**` (`**/*/**/` misses `aa/b`). So:
// - `inner` may be any pattern without `\`, `[`, `]`, `{`, `}` (its automaton
//   accepts at least what the matcher does: every step of the search is a step
//   of the automaton);
// - `outer` must also have no empty segment (no leading, trailing or double
//   `/`), where the property test shows automaton and matcher agree;
// - anything else is answered by the plainly sound rules below, or false.
// Unsure is always false: a false "covers" would let a key reach further.
import { globCoversEveryName, globProblem, matchGlob } from './glob.js';

const SLASH = 0x2f;
/** any character that is neither `/` nor a literal of either pattern */
const OTHER = -1;
const END_FORMS = new Set(['', '*', '**', '/**', '**/', '/**/']);
/** product states explored, and pattern lengths, beyond which the answer is "unsure" (false) */
const MAX_STATES = 20_000;
const MAX_PATTERN = 256;
const UNMODELLED = /[\\[\]{}]/;
const GLOB_SYNTAX = /[*?[\]{}\\]/;

/**
 * True when every name `inner` matches is matched by `outer` (every name
 * that is not empty: no repository's is, and `**\/*` does not match it). Sound for the
 * gate's matcher (see the module comment); false when it cannot tell, and
 * for any pattern with a problem.
 */
export function globCovers(outer: string, inner: string): boolean {
  if (globProblem(outer) !== null || globProblem(inner) !== null) return false;
  if (outer === inner || globCoversEveryName(outer)) return true;
  // a literal matches only itself
  if (!GLOB_SYNTAX.test(inner)) return matchGlob(outer, inner);
  if (literalPrefixCovers(outer, inner)) return true;
  if (outer.length > MAX_PATTERN || inner.length > MAX_PATTERN) return false;
  const outerAutomaton = automaton(outer, true);
  const innerAutomaton = automaton(inner, false);
  if (outerAutomaton === null || innerAutomaton === null) return false;
  return included(innerAutomaton, outerAutomaton, alphabet(outer, inner));
}

/**
 * `P/**` for a literal `P` covers any glob that begins with `P/`: the search
 * reads that text first, so such a glob matches only names that begin with
 * it, or the bare `P` through a trailing `/**`, and `P/**` matches all of them.
 * Kept for inner globs the automaton does not model (`ci/{a,b}`).
 */
function literalPrefixCovers(outer: string, inner: string): boolean {
  if (!outer.endsWith('/**')) return false;
  const prefix = outer.slice(0, -'**'.length);
  return prefix.length > 1 && !GLOB_SYNTAX.test(prefix) && inner.startsWith(prefix);
}

type Token =
  | { readonly kind: 'literal'; readonly point: number; readonly next: number }
  | { readonly kind: 'any'; readonly next: number }
  | { readonly kind: 'star'; readonly next: number }
  /** a whole-segment `**` followed by `/`: skip any text ending in `/`, then go on at `next` */
  | { readonly kind: 'dirs'; readonly next: number }
  /** a whole-segment `**` ending the pattern: the rest of the name, whatever it is */
  | { readonly kind: 'rest' };

/**
 * States: `at i` (0…n) is position i of the text; `star i` is a `*` at i that
 * has eaten at least one character; `skip i` is a `**\/` at i part-way through
 * what it skips; `all` has matched the whole name.
 */
interface Automaton {
  readonly tokens: ReadonlyArray<Token | null>;
  readonly accepting: (state: number) => boolean;
  readonly size: number;
}

/** State numbering: at i = i, star i = n+1+i, skip i = 2(n+1)+i, all = 3(n+1). */
function automaton(text: string, exact: boolean): Automaton | null {
  if (UNMODELLED.test(text)) return null;
  if (exact && (text.startsWith('/') || text.endsWith('/') || text.includes('//'))) return null;
  const n = text.length;
  const tokens: Array<Token | null> = [];
  for (let i = 0; i < n; i++) tokens.push(tokenAt(text, i));
  tokens.push(null);
  const all = 3 * (n + 1);
  const endsHere = (i: number) => END_FORMS.has(text.slice(i));
  const accepting = (state: number): boolean => {
    if (state === all) return true;
    if (state <= n) return endsHere(state);
    if (state <= 2 * n + 1) return endsHere((tokens[state - n - 1] as Token & { next: number }).next);
    return false;
  };
  return { tokens, accepting, size: all + 1 };
}

// glob.ts's readToken, with its segment rule made static: in a text without
// `\` a `**` starts a segment exactly when it is first or follows a `/`.
function tokenAt(text: string, i: number): Token {
  const char = text[i];
  if (char === '?') return { kind: 'any', next: i + 1 };
  if (char !== '*') {
    const point = text.codePointAt(i) as number;
    return { kind: 'literal', point, next: i + (point > 0xffff ? 2 : 1) };
  }
  if (text[i + 1] !== '*') return { kind: 'star', next: i + 1 };
  const next = i + 2;
  if (i === 0 || text[i - 1] === '/') {
    if (next === text.length) return { kind: 'rest' };
    if (text[next] === '/') return { kind: 'dirs', next: next + 1 };
  }
  return { kind: 'star', next };
}

/**
 * The states reached from `state` by reading `symbol`. The search takes a
 * `*` or `**\/` as empty only on its way to the next character, so those
 * empty steps come before the character, never after the last one.
 */
function step(a: Automaton, state: number, symbol: number, into: Set<number>): void {
  const n = a.tokens.length - 1;
  const all = 3 * (n + 1);
  if (state === all) {
    into.add(all);
    return;
  }
  if (state > 2 * n + 1) {
    const at = state - 2 * (n + 1);
    into.add(state);
    if (symbol === SLASH) into.add((a.tokens[at] as Token & { next: number }).next);
    return;
  }
  if (state > n) {
    const at = state - n - 1;
    if (symbol !== SLASH) into.add(state);
    stepFrom(a, (a.tokens[at] as Token & { next: number }).next, symbol, into, n);
    return;
  }
  stepFrom(a, state, symbol, into, n);
}

function stepFrom(a: Automaton, at: number, symbol: number, into: Set<number>, n: number): void {
  const token = a.tokens[at];
  if (token === null || token === undefined) return;
  switch (token.kind) {
    case 'literal':
      if (token.point === symbol) into.add(token.next);
      return;
    case 'any':
      if (symbol !== SLASH) into.add(token.next);
      return;
    case 'star':
      if (symbol !== SLASH) into.add(n + 1 + at);
      stepFrom(a, token.next, symbol, into, n);
      return;
    case 'dirs':
      into.add(2 * (n + 1) + at);
      if (symbol === SLASH) into.add(token.next);
      stepFrom(a, token.next, symbol, into, n);
      return;
    case 'rest':
      into.add(3 * (n + 1));
      return;
  }
}

/** `/`, every literal character of either pattern, and one stand-in for all others. */
function alphabet(...texts: string[]): number[] {
  const symbols = new Set<number>([SLASH, OTHER]);
  for (const text of texts) for (const char of text) if (!'*?'.includes(char)) symbols.add(char.codePointAt(0) as number);
  return [...symbols];
}

function advance(a: Automaton, states: readonly number[], symbol: number): number[] {
  const into = new Set<number>();
  for (const state of states) step(a, state, symbol, into);
  return [...into].sort((x, y) => x - y);
}

/** Is there a name the inner automaton accepts and the outer does not? Searched over both subset automata. */
function included(inner: Automaton, outer: Automaton, symbols: readonly number[]): boolean {
  const seen = new Set<string>();
  const queue: Array<readonly [number[], number[]]> = [[[0], [0]]];
  while (queue.length > 0) {
    const [i, o] = queue.shift() as readonly [number[], number[]];
    const key = `${i.join(',')}|${o.join(',')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (seen.size > MAX_STATES) return false;
    // the start pair stands for the empty name, which is no repository's
    if (seen.size > 1 && i.some(inner.accepting) && !o.some(outer.accepting)) return false;
    for (const symbol of symbols) {
      const nextInner = advance(inner, i, symbol);
      if (nextInner.length > 0) queue.push([nextInner, advance(outer, o, symbol)]);
    }
  }
  return true;
}

/**
 * Whether the automaton of `pattern` accepts `name`: for the property test
 * that holds it to the matcher (exact: as an `outer`; else: at least as much).
 * Null for a pattern it does not model.
 */
export function automatonAccepts(pattern: string, name: string, exact: boolean): boolean | null {
  const a = automaton(pattern, exact);
  if (a === null) return null;
  let states = [0];
  for (const char of name) states = advance(a, states, char.codePointAt(0) as number);
  return states.some(a.accepting);
}
