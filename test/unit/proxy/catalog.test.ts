import { describe, expect, it } from 'vitest';
import { paginate } from '../../../src/proxy/catalog.js';

const names = ['c', 'a', 'b/x', 'b', 'd'];

describe('paginate (dist-spec "Listing Repositories")', () => {
  it.each([
    [null, null, { repositories: ['a', 'b', 'b/x', 'c', 'd'], link: null }],
    [2, null, { repositories: ['a', 'b'], link: '</v2/_catalog?n=2&last=b>; rel="next"' }],
    [2, 'b', { repositories: ['b/x', 'c'], link: '</v2/_catalog?n=2&last=c>; rel="next"' }],
    [2, 'c', { repositories: ['d'], link: null }],
    [5, null, { repositories: ['a', 'b', 'b/x', 'c', 'd'], link: null }],
    [0, null, { repositories: [], link: null }],
    [3, 'z', { repositories: [], link: null }],
  ])('n=%j last=%j', (n, last, expected) => {
    expect(paginate(names, n, last)).toEqual(expected);
  });
});
