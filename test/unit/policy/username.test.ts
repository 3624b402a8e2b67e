import { describe, expect, it } from 'vitest';
import { checkUsername } from '../../../src/policy/username.js';

const CONTROL = { ok: false, reason: 'username-invalid', problem: 'control characters are not allowed' };
const LENGTH = { ok: false, reason: 'username-invalid', problem: 'a username is 1 to 256 characters, not only spaces' };

describe('checkUsername: the one rule for every way a username comes in', () => {
  it.each<[string, string, unknown]>([
    ['an email address', 'alice@example.org', { ok: true, username: 'alice@example.org' }],
    ['a login name', 'ci', { ok: true, username: 'ci' }],
    ['letters of any script', 'zoë-ビルド', { ok: true, username: 'zoë-ビルド' }],
    ['a space inside (a display name), kept as is', ' Alice Smith', { ok: true, username: ' Alice Smith' }],
    ['256 characters', 'x'.repeat(256), { ok: true, username: 'x'.repeat(256) }],
    ['empty', '', LENGTH],
    ['blank', '   ', LENGTH],
    ['257 characters', 'x'.repeat(257), LENGTH],
    ['ESC', 'eve\u001b[2J', CONTROL],
    ['NUL', 'eve\u0000', CONTROL],
    ['a newline', 'eve\nci', CONTROL],
    ['a tab', 'eve\tci', CONTROL],
    ['DEL', 'eve\u007f', CONTROL],
    ['C1 CSI', 'eve\u009b2J', CONTROL],
    ['a line separator', 'eve\u2028', CONTROL],
    ['a right-to-left override', 'eve\u202enimda', CONTROL],
    ['a first-strong isolate', 'eve\u2068', CONTROL],
  ])('%s', (_name, text, expected) => {
    expect(checkUsername(text)).toEqual(expected);
  });
});
