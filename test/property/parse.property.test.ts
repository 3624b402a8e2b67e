/**
 * Properties of the request-target parser (issue 8): no input throws, no
 * accepted input means one thing to the gate and another to the registry.
 * "The registry's reading" is test/property/support/upstream-reading.ts:
 * the WHATWG URL parser reply-from uses, then zot's Go unescape, path
 * cleaning and route templates.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRequest } from '../../src/registry/parse.js';
import { requirementOf } from '../../src/registry/requirements.js';
import type { ParsedRequest, ParseResult, RegistryRoute } from '../../src/registry/types.js';
import { runs } from './support/runs.js';
import { method, target } from './support/targets.js';
import { goCleanPath, goQuery, goUnescape, reachesZotApi, UPSTREAM_ORIGIN, whatwgTarget, zotRoute, type ZotRoute } from './support/upstream-reading.js';

const RUNS = runs(2000);
const anyInput = fc.tuple(method, target);

/** The reasons parse.ts documents in its table; no other may reach a client. */
const REASONS = new Set([
  'not-origin-form', 'control-character', 'non-ascii', 'percent-encoded', 'backslash', 'path-parameter', 'dot-segment',
  'empty-segment', 'name-too-long', 'name-grammar', 'tag-grammar', 'digest-algorithm', 'digest-grammar', 'session-grammar',
  'repeated-parameter', 'page-size', 'reserved-path', 'nested-percent-encoding', 'undecodable-target', 'too-many-tags',
  'reference-grammar', 'gate-path-unknown',
]);
const CODES = new Set(['NAME_INVALID', 'TAG_INVALID', 'DIGEST_INVALID', 'MANIFEST_INVALID', 'MANIFEST_UNKNOWN', 'UNSUPPORTED']);

type Registry = Extract<RegistryRoute, { kind: 'base' | 'catalog' | 'manifest' | 'blob' | 'upload-start' | 'upload' | 'tags' | 'referrers' }>;

function isRegistry(route: RegistryRoute): route is Registry {
  return !['extension', 'metrics', 'ui', 'unknown'].includes(route.kind);
}

function accepted(result: ParseResult): ParsedRequest | null {
  return result.ok ? result.request : null;
}

function pathOf(url: string): string {
  const mark = url.search(/[?#]/);
  return mark === -1 ? url : url.slice(0, mark);
}

/** The route as zot's templates name it: kind, repository and the last segment. */
function asZotRoute(route: Registry): ZotRoute {
  switch (route.kind) {
    case 'base':
    case 'catalog':
      return { kind: route.kind };
    case 'tags':
    case 'upload-start':
      return { kind: route.kind, name: route.name };
    case 'manifest':
      return { kind: 'manifest', name: route.name, last: route.reference.kind === 'tag' ? route.reference.tag : route.reference.digest };
    case 'blob':
    case 'referrers':
      return { kind: route.kind, name: route.name, last: route.digest };
    case 'upload':
      return { kind: 'upload', name: route.name, last: route.session };
  }
}

/** zot's reading of a path: unescaped once, then cleaned; null where Go refuses it. */
function goPath(pathname: string): string | null {
  const unescaped = goUnescape(pathname);
  return unescaped === null ? null : goCleanPath(unescaped);
}

describe('parseRequest properties', () => {
  it('never throws; a refusal carries an OCI code and a documented reason, in a bounded message free of control characters', () => {
    fc.assert(
      fc.property(anyInput, ([verb, rawUrl]) => {
        const result = parseRequest(verb, rawUrl);
        if (result.ok) return;
        const { code, reason, message } = result.invalid;
        expect(CODES.has(code), code).toBe(true);
        expect(REASONS.has(reason), reason).toBe(true);
        expect(message.length).toBeGreaterThan(0);
        // client text is quoted and cut at 80 characters; JSON escapes make one character at most six
        expect(message.length).toBeLessThanOrEqual(700);
        expect(message).not.toMatch(/[\x00-\x1f]/);
      }),
      RUNS,
    );
  });

  it('is idempotent: the upstream URL parses to the same route, URL and query', () => {
    fc.assert(
      fc.property(anyInput, ([verb, rawUrl]) => {
        const first = accepted(parseRequest(verb, rawUrl));
        if (first === null) return;
        const again = accepted(parseRequest(verb, first.upstreamUrl));
        expect(again, first.upstreamUrl).not.toBeNull();
        expect({ route: again?.route, upstreamUrl: again?.upstreamUrl, query: again?.query }).toEqual({
          route: first.route,
          upstreamUrl: first.upstreamUrl,
          query: first.query,
        });
      }),
      RUNS,
    );
  });

  it('forwards a registry route as a canonical path: no dot or empty segment, no escape, "\\" or ";"; WHATWG and Go leave it unchanged', () => {
    fc.assert(
      fc.property(anyInput, ([verb, rawUrl]) => {
        const request = accepted(parseRequest(verb, rawUrl));
        if (request === null || !isRegistry(request.route)) return;
        const path = pathOf(request.upstreamUrl);
        expect(path).toMatch(/^\/v2\//);
        expect(path).not.toMatch(/[%\\;]|\/\/|(?:^|\/)\.\.?(?:\/|$)/);
        const sent = whatwgTarget(request.upstreamUrl);
        expect(sent.origin).toBe(UPSTREAM_ORIGIN);
        expect(sent.pathname).toBe(path);
        expect(goCleanPath(path)).toBe(path);
      }),
      RUNS,
    );
  });

  it('the registry routes the forwarded URL to the same route and repository, and reads the same query', () => {
    fc.assert(
      fc.property(anyInput, ([verb, rawUrl]) => {
        const request = accepted(parseRequest(verb, rawUrl));
        if (request === null || !isRegistry(request.route)) return;
        const sent = whatwgTarget(request.upstreamUrl);
        expect(zotRoute(goPath(sent.pathname) ?? '')).toEqual(asZotRoute(request.route));
        expect(goQuery(sent.search)).toEqual(request.query.map(([key, value]) => [key, value]));
      }),
      RUNS,
    );
  });

  it('an accepted raw target, normalised by WHATWG and Go before the gate saw it, still names the same route', () => {
    fc.assert(
      fc.property(anyInput, ([verb, rawUrl]) => {
        const request = accepted(parseRequest(verb, rawUrl));
        if (request === null || !isRegistry(request.route) || request.route.kind === 'base') return;
        expect(zotRoute(goPath(whatwgTarget(rawUrl).pathname) ?? '')).toEqual(asZotRoute(request.route));
      }),
      RUNS,
    );
  });

  it('what is not a registry route never reaches one upstream: extensions stay extensions, UI paths stay outside zot\'s API, unknown paths are refused', () => {
    fc.assert(
      fc.property(anyInput, ([verb, rawUrl]) => {
        const request = accepted(parseRequest(verb, rawUrl));
        if (request === null || isRegistry(request.route)) return;
        const sent = whatwgTarget(request.upstreamUrl);
        expect(sent.origin).toBe(UPSTREAM_ORIGIN);
        const readings = [goPath(sent.pathname), goCleanPath(sent.pathname)].filter((path) => path !== null);
        switch (request.route.kind) {
          case 'metrics':
            expect(request.upstreamUrl).toBe('/metrics');
            break;
          case 'extension':
            for (const path of readings) expect(zotRoute(path)?.kind === 'extension' || !reachesZotApi(path), path).toBe(true);
            break;
          case 'unknown':
            // its upstream URL is never used: every method is refused
            expect(requirementOf(verb, request)).toMatchObject({ kind: 'refused', status: verb === 'OPTIONS' ? 405 : 403 });
            break;
          case 'ui':
            for (const path of readings) expect(reachesZotApi(path), path).toBe(false);
            break;
        }
      }),
      RUNS,
    );
  });
});
