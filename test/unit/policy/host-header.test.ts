/** Which Host headers the gate accepts (policy/host-header.ts). */
import { describe, expect, it } from 'vitest';
import { isValidHost } from '../../../src/policy/host-header.js';

describe('isValidHost', () => {
  it.each([
    ['registry.example.org', true],
    ['registry.example.org:5000', true],
    ['localhost', true],
    ['127.0.0.1:8080', true],
    ['[::1]', true],
    ['[::1]:8080', true],
    ['[2001:db8::1]:443', true],
    ['[::ffff:192.0.2.1]', true],
    ['xn--bcher-kva.example', true],
    ['REGISTRY.Example.ORG', true],
    ['a b', false],
    ['[::1', false],
    ['::1', false],
    ['[not-an-address]', false],
    ['[1.2.3.4]', false],
    ['[1:2:3:4:5:6:7:8:9]', false],
    ['[::1.2.3]', false],
    ['[12345::1]', false],
    ['[1::2::3]', false],
    ['[::1]x', false],
    ['registry.example.org/v2', false],
    ['user@registry.example.org', false],
    ['registry.example.org:http', false],
    ['registry.example.org:65536', false],
    ['registry.example.org:', false],
    ['registry",service="evil', false],
    ['a%20b', false],
    ['host\\name', false],
    ['', false],
  ])('%j → %s', (host, valid) => {
    expect(isValidHost(host)).toBe(valid);
  });
});
