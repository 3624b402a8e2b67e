import { describe, expect, it } from 'vitest';
import { checkKeyLabel } from '../../../src/policy/key-label.js';

const CONTROL = { ok: false, reason: 'label-invalid', problem: 'control characters are not allowed' };
const LENGTH = { ok: false, reason: 'label-invalid', problem: 'give the key a name of 1 to 100 characters' };

describe('checkKeyLabel: the one rule for every way a key is made', () => {
  it.each<[string, string, unknown]>([
    ['a plain label', 'ci', { ok: true, label: 'ci' }],
    ['trimmed', '  ci build ', { ok: true, label: 'ci build' }],
    ['100 characters', 'x'.repeat(100), { ok: true, label: 'x'.repeat(100) }],
    ['letters of any script', 'Zürich-ビルド', { ok: true, label: 'Zürich-ビルド' }],
    ['empty', '', LENGTH],
    ['blank', '   ', LENGTH],
    ['101 characters', 'x'.repeat(101), LENGTH],
    ['ESC', 'a\u001b[31mb', CONTROL],
    ['NUL', 'a\u0000b', CONTROL],
    ['a newline inside', 'a\nb', CONTROL],
    ['a tab inside', 'a\tb', CONTROL],
    ['DEL', 'a\u007fb', CONTROL],
    ['C1 CSI', 'a\u009bb', CONTROL],
    ['a paragraph separator', 'a\u2029b', CONTROL],
    ['a right-to-left override', 'a\u202eb', CONTROL],
    ['a first-strong isolate', 'a\u2068b', CONTROL],
  ])('%s', (_name, text, expected) => {
    expect(checkKeyLabel(text)).toEqual(expected);
  });
});
