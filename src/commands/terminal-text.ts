/**
 * What the command line prints to an operator's terminal. Stored text (a
 * key's label, an owner's name from the IdP) may hold characters a terminal
 * acts on: escape sequences, newlines and tabs that draw fake rows, bidi
 * overrides. Each such character (policy/api-key.ts's set) is printed as an
 * escape instead, so the output shows what is stored and nothing else.
 */
import { CONTROL_CHARACTERS } from '../policy/api-key.js';

const EVERY_CONTROL = new RegExp(CONTROL_CHARACTERS.source, 'gu');

const hex = (char: string, digits: number) => (char.codePointAt(0) as number).toString(16).padStart(digits, '0');

/** One field of a table row: `\x1b`, `\x0a`, `\x9b`, `\u202e` for the characters a terminal would act on. */
export function printable(text: string): string {
  return text.replace(EVERY_CONTROL, (char) => (char.length === 1 && char <= '\u00ff' ? `\\x${hex(char, 2)}` : `\\u${hex(char, 4)}`));
}

/** JSON as JSON.stringify writes it, but for the characters it leaves raw (DEL, C1, U+2028, bidi): `\u` escapes, which read back the same. */
export function terminalJson(value: unknown): string {
  return JSON.stringify(value).replace(EVERY_CONTROL, (char) => `\\u${hex(char, 4)}`);
}
