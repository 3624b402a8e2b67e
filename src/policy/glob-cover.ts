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
//
// The search can grow with the product of both patterns (`*ab*ab…` against
// `?*?*…` took seconds), and anyone holding a key chooses the patterns. So
// it is bounded in steps (one step: one automaton state stepped, or put in a
// subset), per question (PAIR_STEPS) and per decision that asks many
// (`CoverBudget`, shared): past either bound the answer is "too costly",
// so false. Steps, not time: the answer does not depend on the machine's
// load. Answers are memoised ("too costly" ones too), so a question asked
// again costs nothing and gets the same answer.
import { globCoversEveryName, globProblem, matchGlob } from './glob.js';

const SLASH = 0x2f;
/** any character that is neither `/` nor a literal of either pattern */
const OTHER = -1;
const END_FORMS = new Set(['', '*', '**', '/**', '**/', '/**/']);
/**
 * Steps one inclusion question may take. What people write takes hundreds
 * (test/regression/glob-cover-cpu-exhaustion.test.ts); the costliest pairs
 * of 128 characters stop here within a few milliseconds.
 */
export const PAIR_STEPS = 20_000;
/** Steps all the questions of one decision (a key grant, a listing) may take together. */
export const DECISION_STEPS = 100_000;
/** Pattern lengths beyond which the answer is "too costly" without a search (new key scopes are at most 128). */
const MAX_PATTERN = 256;
const UNMODELLED = /[\\[\]{}]/;
const GLOB_SYNTAX = /[*?[\]{}\\]/;

/** The steps a decision may still spend on glob inclusion, and what it spent. */
export interface CoverBudget {
  remaining: number;
  spent: number;
  /** whether some question was left unanswered for want of steps (and so answered "no") */
  ranOut: boolean;
}

/** A fresh budget for one decision. */
export function coverBudget(steps: number = DECISION_STEPS): CoverBudget {
  return { remaining: steps, spent: 0, ranOut: false };
}

/** What glob inclusion found; `too-costly` (the search ran out of steps) is answered as "no" by `globCovers`. */
export type Coverage = 'covers' | 'not-covered' | 'too-costly';

/**
 * A memo of at most `cap` answers: past it, the oldest inserted is dropped
 * (a Map keeps insertion order). Not least-recently-used: the cap is there to
 * bound memory, and a dropped answer is only searched again, within its budget.
 */
class BoundedMemo<V> {
  readonly #entries = new Map<string, V>();
  readonly #cap: number;
  constructor(cap: number) {
    this.#cap = cap;
  }
  get(key: string): V | undefined {
    return this.#entries.get(key);
  }
  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#cap) this.#entries.delete(this.#entries.keys().next().value!);
  }
}

// Keyed by both texts, the outer one's length first so that no two pairs share a key.
const memo = new BoundedMemo<Coverage>(4096);

/**
 * True when every name `inner` matches is matched by `outer` (every name
 * that is not empty: no repository's is, and `**\/*` does not match it). Sound for the
 * gate's matcher (see the module comment); false when it cannot tell, and
 * for any pattern with a problem. The search spends from `budget`.
 */
export function globCovers(outer: string, inner: string, budget: CoverBudget = coverBudget()): boolean {
  return coverage(outer, inner, budget) === 'covers';
}

/** As `globCovers`, telling "no, or cannot tell" from "ran out of steps". */
export function coverage(outer: string, inner: string, budget: CoverBudget = coverBudget()): Coverage {
  if (globProblem(outer) !== null || globProblem(inner) !== null) return 'not-covered';
  if (outer === inner || globCoversEveryName(outer)) return 'covers';
  // a literal matches only itself
  if (!GLOB_SYNTAX.test(inner)) return matchGlob(outer, inner) ? 'covers' : 'not-covered';
  if (literalPrefixCovers(outer, inner)) return 'covers';
  if (outer.length > MAX_PATTERN || inner.length > MAX_PATTERN) return tooCostly(budget);
  const key = `${outer.length}:${outer}${inner}`;
  const known = memo.get(key);
  if (known !== undefined) return known === 'too-costly' ? tooCostly(budget) : known;
  const outerAutomaton = automaton(outer, true);
  const innerAutomaton = automaton(inner, false);
  // not modelled: the plain rules above are all there is
  if (outerAutomaton === null || innerAutomaton === null) return 'not-covered';
  const allowance = Math.min(PAIR_STEPS, budget.remaining);
  const search = included(innerAutomaton, outerAutomaton, alphabet(outer, inner), allowance);
  budget.remaining -= search.steps;
  budget.spent += search.steps;
  // an answer cut short by the decision's budget rather than the question's own is not this pair's answer
  if (search.found !== 'too-costly' || allowance === PAIR_STEPS) memo.set(key, search.found);
  return search.found === 'too-costly' ? tooCostly(budget) : search.found;
}

function tooCostly(budget: CoverBudget): 'too-costly' {
  budget.ranOut = true;
  return 'too-costly';
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

/** One counter of steps for a search: every state stepped and every state put in a subset costs one. */
interface Steps {
  taken: number;
}

function advance(a: Automaton, states: readonly number[], symbol: number, steps: Steps): number[] {
  const into = new Set<number>();
  for (const state of states) step(a, state, symbol, into);
  steps.taken += states.length + into.size;
  return [...into].sort((x, y) => x - y);
}

/**
 * Is there a name the inner automaton accepts and the outer does not?
 * Searched breadth-first over both subset automata, within `allowance` steps.
 */
function included(inner: Automaton, outer: Automaton, symbols: readonly number[], allowance: number): { readonly found: Coverage; readonly steps: number } {
  const steps: Steps = { taken: 0 };
  const seen = new Set<string>();
  const queue: Array<readonly [number[], number[]]> = [[[0], [0]]];
  for (let next = 0; next < queue.length; next++) {
    const [i, o] = queue[next] as readonly [number[], number[]];
    const key = `${i.join(',')}|${o.join(',')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // the start pair stands for the empty name, which is no repository's
    if (seen.size > 1 && i.some(inner.accepting) && !o.some(outer.accepting)) return { found: 'not-covered', steps: steps.taken };
    // what stepping both subsets on one symbol may cost at most: checked before each, so `allowance` is never passed
    const most = i.length + inner.size + o.length + outer.size;
    for (const symbol of symbols) {
      if (steps.taken + most > allowance) return { found: 'too-costly', steps: steps.taken };
      const nextInner = advance(inner, i, symbol, steps);
      if (nextInner.length > 0) queue.push([nextInner, advance(outer, o, symbol, steps)]);
    }
  }
  return { found: 'covers', steps: steps.taken };
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
  const steps: Steps = { taken: 0 };
  for (const char of name) states = advance(a, states, char.codePointAt(0) as number, steps);
  return states.some(a.accepting);
}
