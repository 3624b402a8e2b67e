import { describe, expect, it } from 'vitest';
import { safeCallbackUi } from '../../../src/policy/redirect.js';

const self = 'https://registry.example.org';
const allowed = ['https://ui.example.org'];

describe('safeCallbackUi: callback_ui stays on the gate or an allow-listed origin', () => {
  it.each([
    [undefined, '/'],
    ['', '/'],
    ['/-/account', '/-/account'],
    ['/home?tab=keys', '/home?tab=keys'],
    ['/image/library%2Fnginx', '/'], // an encoded slash is refused outright rather than reasoned about
    ['//evil.example/x', '/'],
    ['/\\evil.example', '/'],
    ['\\\\evil.example', '/'],
    ['/%5Cevil.example', '/'],
    ['/%2F%2Fevil.example', '/'],
    ['/x\r\nSet-Cookie: a=b', '/'],
    ['/x%0d%0aSet-Cookie:%20a=b', '/'],
    ['https://evil.example/', '/'],
    ['http://registry.example.org/-/account', '/'], // other scheme, other origin
    ['https://registry.example.org/-/account', '/-/account'],
    ['https://registry.example.org//evil.example', '/'],
    ['https://ui.example.org/home', 'https://ui.example.org/home'],
    ['https://ui.example.org.evil.example/home', '/'],
    ['javascript:alert(1)', '/'],
    ['data:text/html,hi', '/'],
    ['evil.example', '/'],
    // Beyond printable ASCII: percent-encoded as UTF-8 (a valid Location header, the same path to a browser).
    ['/\u3000x', '/%E3%80%80x'],
    ['/ā', '/%C4%81'],
    ['/é?tab=ü', '/%C3%A9?tab=%C3%BC'],
    ['/a b', '/a%20b'],
    ['/\u{1F433}', '/%F0%9F%90%B3'],
    ['/\u00a0//evil.example', '/%C2%A0//evil.example'], // stays a path: encoding never makes a leading //
    ['/x\u2028y', '/x%E2%80%A8y'],
    ['/%E3%80%80x', '/%E3%80%80x'], // already encoded: as it is
    ['/\ud800x', '/'], // a lone surrogate has no UTF-8
    ['https://registry.example.org/ā?q=ü', '/%C4%81?q=%C3%BC'],
    ['https://ui.example.org/ā', 'https://ui.example.org/%C4%81'],
  ])('%j → %j', (value, expected) => {
    expect(safeCallbackUi(value, allowed, self)).toBe(expected);
  });

  it('every answer can be a Location header: printable ASCII only', () => {
    const odd = ['/\u3000x', '/ā', '/é', '/\u00ff', '/a b', '/\u{1F433}', '/x\u2028', 'https://ui.example.org/ā', 'https://registry.example.org/é'];
    for (const value of odd) expect(safeCallbackUi(value, allowed, self)).toMatch(/^[\u0021-\u007e]+$/);
  });
});
