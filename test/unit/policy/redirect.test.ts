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
  ])('%j → %j', (value, expected) => {
    expect(safeCallbackUi(value, allowed, self)).toBe(expected);
  });
});
