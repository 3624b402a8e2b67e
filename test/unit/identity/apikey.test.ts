import { describe, expect, it } from 'vitest';
import { API_KEY_PREFIX, generateApiKey, hashApiKey, isApiKeyFormat } from '../../../src/identity/apikey.js';

describe('generateApiKey', () => {
  it('produces zot-shaped keys that differ every time', () => {
    const keys = Array.from({ length: 200 }, generateApiKey);
    for (const key of keys) expect(key).toMatch(/^zak_[0-9a-f]{32}$/);
    expect(new Set(keys).size).toBe(200);
    expect(API_KEY_PREFIX).toBe('zak_');
  });
});

describe('isApiKeyFormat', () => {
  it.each([
    ['zak_0123456789abcdef0123456789abcdef', true],
    ['zak_00000000000000000000000000000000', true],
    ['zak_0123456789ABCDEF0123456789abcdef', false],
    ['zak_0123456789abcdef0123456789abcde', false],
    ['zak_0123456789abcdef0123456789abcdef0', false],
    ['zak_0123456789abcdef0123456789abcdeg', false],
    ['ZAK_0123456789abcdef0123456789abcdef', false],
    ['0123456789abcdef0123456789abcdef', false],
    ['zak_0123456789abcdef0123456789abcdef\n', false],
    [' zak_0123456789abcdef0123456789abcdef', false],
    ['zak_', false],
    ['', false],
  ])('%j → %s', (value, expected) => {
    expect(isApiKeyFormat(value)).toBe(expected);
  });
});

describe('hashApiKey', () => {
  it.each([
    ['zak_00000000000000000000000000000000', 'd44fb840087077b58053788fb08656e737c6d4bcf8c099f6e4573e31c91ed20c'],
    ['zak_0123456789abcdef0123456789abcdef', 'a04e968a53390e0adf81e7ad08a4e43bfbd50f23925de0c46510e7e0f9afdbf8'],
  ])('SHA-256 of the whole key %s', (key, hash) => {
    expect(hashApiKey(key)).toBe(hash);
  });
});
