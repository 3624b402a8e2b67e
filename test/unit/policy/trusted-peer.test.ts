/** Whose request id is kept: a trusted proxy's (policy/trusted-peer.ts; who is one: test/unit/http/trusted-peers.test.ts). */
import { describe, expect, it } from 'vitest';
import { acceptedRequestId } from '../../../src/policy/trusted-peer.js';

describe('acceptedRequestId', () => {
  it.each([
    ['a token from a trusted proxy', 'caddy-7f3a.9c_21', 'caddy-7f3a.9c_21', true],
    ['a token from anyone else', null, 'caddy-7f3a.9c_21', false],
    ['no header', null, undefined, true],
    ['the header twice', null, ['a', 'b'], true],
    ['empty', null, '', true],
    ['64 characters', 'x'.repeat(64), 'x'.repeat(64), true],
    ['65 characters', null, 'x'.repeat(65), true],
    ['a space', null, 'a b', true],
    ['a line break', null, 'a\nb', true],
  ])('%s → %j', (_name, expected, given, trusted) => {
    expect(acceptedRequestId(given, trusted)).toBe(expected);
  });
});
