/**
 * The one pager (src/proxy/pages.ts) and its two users: the catalog filter
 * (fetchCatalog) and a delete's tag lookup (listTags). Paging needs more than
 * 1000 entries before the registry sends a second page, so a scripted HTTP
 * server on port 0 stands in for it here, answering each page as written in
 * the row; the real registry's single pages are covered by request-actions
 * and upstream-faults.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchCatalog } from '../../../src/proxy/catalog.js';
import { readAllPages } from '../../../src/proxy/pages.js';
import { listTags } from '../../../src/proxy/tag-state.js';
import { createUpstream, type Upstream } from '../../../src/proxy/upstream.js';

/** One scripted answer: a status, the JSON body, and whether a `Link` says more follow. */
interface Page {
  readonly status: number;
  readonly body?: unknown;
  readonly more?: boolean;
}

let pages: Page[] = [];
let asked: string[] = [];
let accepts: Array<string | undefined> = [];
let server: Server;
let upstream: Upstream;

beforeAll(async () => {
  server = createServer((request, response) => {
    asked.push(request.url ?? '');
    accepts.push(request.headers.accept);
    const page = pages[asked.length - 1] ?? { status: 500 };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (page.more === true) headers['link'] = '</v2/next>; rel="next"';
    response.writeHead(page.status, headers).end(page.body === undefined ? '' : JSON.stringify(page.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream = createUpstream(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 5_000);
});

afterAll(async () => {
  await upstream.close();
  await new Promise((resolve) => server.close(resolve));
});

function script(...answers: Page[]): void {
  pages = answers;
  asked = [];
  accepts = [];
}

describe('readAllPages', () => {
  it.each<[string, Page[], object, string[]]>([
    ['one page, no Link', [{ status: 200, body: { tags: ['a', 'b'] } }], { kind: 'complete', items: ['a', 'b'] }, ['n=1000']],
    [
      'three pages, each asked after the last name of the one before',
      [
        { status: 200, body: { tags: ['a', 'b'] }, more: true },
        { status: 200, body: { tags: ['c d'] }, more: true },
        { status: 200, body: { tags: ['e'] } },
      ],
      { kind: 'complete', items: ['a', 'b', 'c d', 'e'] },
      ['n=1000', 'n=1000&last=b', 'n=1000&last=c%20d'],
    ],
    ['an empty page ends the list, whatever its Link says', [{ status: 200, body: { tags: [] }, more: true }], { kind: 'complete', items: [] }, ['n=1000']],
    ['entries that are not strings are left out', [{ status: 200, body: { tags: ['a', 1, null, 'b'] } }], { kind: 'complete', items: ['a', 'b'] }, ['n=1000']],
    ['no list at all', [{ status: 200, body: {} }], { kind: 'complete', items: [] }, ['n=1000']],
    ['404 on the first page', [{ status: 404 }], { kind: 'refused', status: 404, items: [] }, ['n=1000']],
    [
      '500 on the second page keeps the first',
      [{ status: 200, body: { tags: ['a'] }, more: true }, { status: 500 }],
      { kind: 'refused', status: 500, items: ['a'] },
      ['n=1000', 'n=1000&last=a'],
    ],
  ])('%s', async (_name, answers, expected, queries) => {
    script(...answers);
    expect(await readAllPages(upstream, '/v2/app/tags/list', 'tags')).toEqual(expected);
    expect(asked).toEqual(queries.map((query) => `/v2/app/tags/list?${query}`));
  });

  it('a 200 that is not JSON rejects', async () => {
    const garbage = createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{'));
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    const broken = createUpstream(`http://127.0.0.1:${(garbage.address() as AddressInfo).port}`, 5_000);
    try {
      await expect(readAllPages(broken, '/v2/_catalog', 'repositories')).rejects.toThrow();
    } finally {
      await broken.close();
      await new Promise((resolve) => garbage.close(resolve));
    }
  });
});

describe('listTags and fetchCatalog read through it', () => {
  it.each<[string, Page[], string[] | null]>([
    ['every page', [{ status: 200, body: { tags: ['v1'] }, more: true }, { status: 200, body: { tags: ['v2'] } }], ['v1', 'v2']],
    ['a repository that is not there has no tags', [{ status: 404 }], []],
    ['a refused page: cannot tell', [{ status: 200, body: { tags: ['v1'] }, more: true }, { status: 503 }], null],
    ['garbage: cannot tell', [{ status: 200, body: 'not a list' }], []],
  ])('listTags: %s', async (_name, answers, expected) => {
    script(...answers);
    expect(await listTags(upstream, 'app')).toEqual(expected);
  });

  it('fetchCatalog: every page, asked with Accept: application/json', async () => {
    script({ status: 200, body: { repositories: ['a/x'] }, more: true }, { status: 200, body: { repositories: ['b/y'] } });
    expect(await fetchCatalog(upstream)).toEqual(['a/x', 'b/y']);
    expect(asked).toEqual(['/v2/_catalog?n=1000', '/v2/_catalog?n=1000&last=a%2Fx']);
    expect(accepts).toEqual(['application/json', 'application/json']);
  });

  it('fetchCatalog: a refused page is UPSTREAM_CATALOG, naming the status', async () => {
    script({ status: 401 });
    await expect(fetchCatalog(upstream)).rejects.toMatchObject({ code: 'UPSTREAM_CATALOG', message: 'upstream answered 401 to _catalog', status: 502 });
  });
});
