import { describe, expect, it } from 'vitest';
import { sameOriginForm, sameOriginWrite } from '../../../src/policy/form-origin.js';

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

describe("sameOriginWrite: the CSRF rule for zot's logout (no token to echo)", () => {
  it.each([
    ["zot's UI header, no Origin", true, undefined, true],
    ["zot's UI header, a foreign Origin (the header alone needs a preflight the gate never grants)", true, 'https://evil.example', true],
    ['same origin, no header', true, self, false],
    ['no Origin, no header (a form from an old browser, a script or curl)', false, undefined, false],
    ['another origin of the same site, no header', false, 'https://other.registry.example.org', false],
    ['another port of the same host, no header', false, 'https://registry.example.org:8443', false],
    ['Origin: null, no header', false, 'null', false],
    ['our origin with a trailing slash (not how browsers send it)', false, `${self}/`, false],
    ['our origin over http', false, 'http://registry.example.org', false],
  ])('%s → %s', (_name, expected, origin, zotUi) => {
    expect(sameOriginWrite({ origin, expectedOrigin: self, zotUi })).toBe(expected);
  });
});
