import { describe, expect, it } from 'vitest';
import { sameOriginForm } from '../../../src/policy/form-origin.js';

const self = 'https://registry.example.org';
const csrf = 'Zm9vYmFyYmF6cXV4MTIzNA';

describe('sameOriginForm: the CSRF rule for the account page forms', () => {
  it.each([
    ['same origin, right token', self, csrf, true],
    ['no Origin header (older browsers, same-site form), right token', undefined, csrf, true],
    ['foreign origin, right token', 'https://evil.example', csrf, false],
    ['Origin: null (sandboxed frame), right token', 'null', csrf, false],
    ['same origin, wrong token', self, `${csrf.slice(0, -1)}B`, false],
    ['same origin, token of another length', self, 'short', false],
    ['same origin, empty token', self, '', false],
    ['same origin, no token', self, undefined, false],
    ['same origin, token not a string', self, ['x'], false],
  ])('%s → %s', (_name, origin, token, expected) => {
    expect(sameOriginForm({ origin, expectedOrigin: self, token, sessionToken: csrf })).toBe(expected);
  });
});
