/**
 * Request target → RegistryRoute, validated against the OCI grammar before any
 * decision, and the exact URL that may be sent upstream.
 *
 * The raw target is judged as received, before any decoding: zot's Go router
 * decodes and cleans paths, so any form whose meaning could change on the way
 * (dot segments, encoded characters, `//`, `\`, `;`) is refused rather than
 * normalised. Every refusal is a 400 but the last three rows:
 *
 * | problem                                           | code             | reason                  |
 * | ------------------------------------------------- | ---------------- | ----------------------- |
 * | target is not a path (absolute-form, `*`)         | UNSUPPORTED      | not-origin-form         |
 * | control character anywhere in the target          | UNSUPPORTED      | control-character       |
 * | non-ASCII character anywhere in the target        | UNSUPPORTED      | non-ascii               |
 * | `%` in a `/v2` path                               | UNSUPPORTED      | percent-encoded         |
 * | `\` in a path                                     | UNSUPPORTED      | backslash               |
 * | `;` in a `/v2` path                               | UNSUPPORTED      | path-parameter          |
 * | `.` or `..` segment                               | UNSUPPORTED      | dot-segment             |
 * | empty segment (`//`)                              | UNSUPPORTED      | empty-segment           |
 * | name longer than 255                              | NAME_INVALID     | name-too-long           |
 * | name (path, `from`, catalog `last`) off grammar   | NAME_INVALID     | name-grammar            |
 * | tag (path, `tag`, tags `last`) off grammar        | TAG_INVALID      | tag-grammar             |
 * | digest with an unregistered algorithm             | DIGEST_INVALID   | digest-algorithm        |
 * | digest otherwise off grammar or not lowercase hex | DIGEST_INVALID   | digest-grammar          |
 * | upload session id off grammar                     | UNSUPPORTED      | session-grammar         |
 * | single-valued query parameter repeated            | UNSUPPORTED      | repeated-parameter      |
 * | `n` not a whole number from 0 to 10000            | UNSUPPORTED      | page-size               |
 * | UI path reaching a reserved prefix (RESERVED)     | UNSUPPORTED      | reserved-path           |
 * | UI path still encoded after 3 decoding rounds     | UNSUPPORTED      | nested-percent-encoding |
 * | 404: manifest GET/HEAD, reference off grammar     | MANIFEST_UNKNOWN | reference-grammar       |
 * | 414: manifest PUT with more than 46 `tag=`        | MANIFEST_INVALID | too-many-tags           |
 * | 404: UI path under `/-/`, the gate's own          | UNSUPPORTED      | gate-path-unknown       |
 *
 * The 404 is zot's answer to a read of a reference that is neither a tag nor
 * a digest (it looks it up and finds nothing); writes keep the 400 of the
 * tag and digest rows. The 414 is zot's limit, checked before any `tag` value.
 * The last 404 is for paths under the gate's own `/-/` it does not serve.
 *
 * Control and non-ASCII characters are checked first, over the whole target
 * (RFC 3986 has no place for them); the path checks then run in table order.
 */
import { checkDigest, checkName, checkSessionId, checkTag, quote } from './grammar.js';
import type { RequestReason } from '../policy/types.js';
import type { Invalid, ParseResult, ParsedRequest, RegistryRoute } from './types.js';
import { keepQuery, type Query } from './query.js';

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly invalid: Invalid };

/**
 * Parse a request target exactly as received (path and optional query, still
 * percent-encoded). Never throws; a malformed target is `{ ok: false }`.
 */
export function parseRequest(method: string, rawUrl: string): ParseResult {
  const target = checkTarget(rawUrl);
  if (target !== null) return { ok: false, invalid: target };
  const mark = rawUrl.indexOf('?');
  const path = mark === -1 ? rawUrl : rawUrl.slice(0, mark);
  const rawQuery = mark === -1 ? '' : rawUrl.slice(mark + 1);
  if (path === '/v2' || path.startsWith('/v2/')) return parseV2(method, path, rawQuery);
  if (path === '/metrics') return accept({ route: { kind: 'metrics' }, upstreamUrl: '/metrics', query: [] });
  const guarded = guardUiPath(path);
  if (guarded !== null) return { ok: false, invalid: guarded };
  // Forwarded raw: zot's UI assets carry no registry data.
  return acceptRaw({ kind: 'ui' }, rawUrl, rawQuery);
}

/**
 * A target forwarded as received (UI paths, extension queries) must at least
 * decode: the proxy decodes it to build the upstream URL, and `%ff` or a lone
 * `%` would otherwise surface as a 500 there instead of a 400 here.
 */
function acceptRaw(route: RegistryRoute, upstreamUrl: string, rawQuery: string): ParseResult {
  try {
    decodeURIComponent(upstreamUrl);
  } catch {
    return {
      ok: false,
      invalid: { code: 'UNSUPPORTED', message: 'the request target has a malformed percent-encoding', reason: 'undecodable-target' },
    };
  }
  return accept({ route, upstreamUrl, query: [...new URLSearchParams(rawQuery)] });
}

function parseV2(method: string, path: string, rawQuery: string): ParseResult {
  const structural = checkV2Path(path);
  if (structural !== null) return { ok: false, invalid: structural };
  const matched = matchRoute(method, path === '/v2' ? [''] : path.slice('/v2/'.length).split('/'));
  if (!matched.ok) return matched;
  const route = matched.value;
  if (route.kind === 'unknown') return accept({ route, upstreamUrl: path, query: [] });
  if (route.kind === 'extension') {
    // Extensions are gated as a whole (requirements.ts); their query is their own.
    return acceptRaw(route, rawQuery === '' ? path : `${path}?${rawQuery}`, rawQuery);
  }
  const kept = keepQuery(method, route, new URLSearchParams(rawQuery));
  if (!kept.ok) return kept;
  const { query, mountDropped } = kept;
  const upstreamUrl = canonicalPath(route) + encodeQuery(query);
  return accept(mountDropped ? { route, upstreamUrl, query, mountDropped } : { route, upstreamUrl, query });
}

function accept(request: ParsedRequest): ParseResult {
  return { ok: true, request };
}

function encodeQuery(query: Query): string {
  if (query.length === 0) return '';
  return `?${query.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join('&')}`;
}

function refused(path: string, reason: RequestReason, why: string): Invalid {
  return { code: 'UNSUPPORTED', reason, message: `path ${quote(path)} is refused: ${why}` };
}

// ---- raw checks ------------------------------------------------------------

const CONTROL = /[\x00-\x1f\x7f]/;

function checkTarget(rawUrl: string): Invalid | null {
  if (!rawUrl.startsWith('/')) {
    const message = `request target ${quote(rawUrl)} is refused: it must be a path starting with "/"`;
    return { code: 'UNSUPPORTED', reason: 'not-origin-form', message };
  }
  if (CONTROL.test(rawUrl)) return refused(rawUrl, 'control-character', 'it contains a control character');
  if (/[^\x00-\x7f]/.test(rawUrl)) return refused(rawUrl, 'non-ascii', 'it contains a non-ASCII character');
  return null;
}

/** Structural checks on a raw `/v2` path; the grammar comes with the route. */
function checkV2Path(path: string): Invalid | null {
  if (path.includes('%')) return refused(path, 'percent-encoded', 'percent-encoding is not allowed in registry paths');
  if (path.includes('\\')) return refused(path, 'backslash', 'it contains a backslash');
  if (path.includes(';')) return refused(path, 'path-parameter', 'path parameters (";") are not allowed');
  if (hasDotSegment(path)) return refused(path, 'dot-segment', 'it contains a "." or ".." segment');
  if (path.includes('//')) return refused(path, 'empty-segment', 'it contains an empty segment ("//")');
  return null;
}

function hasDotSegment(path: string): boolean {
  return path.split('/').some((segment) => segment === '.' || segment === '..');
}

// ---- paths outside /v2 -----------------------------------------------------

const DECODE_ROUNDS = 3;
const ENCODED = /%[0-9A-Fa-f]{2}/g;
// `/auth` and `/oras/artifacts` are where older zot served its auth and ORAS routes.
const RESERVED = ['/v2', '/metrics', '/zot/auth', '/auth', '/oras/artifacts'] as const;

/**
 * zot's Go router decodes paths before routing, so a UI path is judged in
 * every form it could take there: as received and after each decoding round
 * (bytewise, as Go unescapes). None may hold a dot segment, `//`, `\` or a
 * control character, nor start, case-insensitively, with a reserved path.
 */
function guardUiPath(path: string): Invalid | null {
  let form = path;
  for (let round = 0; round <= DECODE_ROUNDS; round += 1) {
    const problem = checkUiForm(form, path, round === 0 ? '' : ' once percent-decoded');
    if (problem !== null) return problem;
    const next = form.replaceAll(ENCODED, (hex) => String.fromCharCode(Number.parseInt(hex.slice(1), 16)));
    if (next === form) return null;
    form = next;
  }
  return refused(path, 'nested-percent-encoding', `it is still percent-encoded after ${DECODE_ROUNDS} rounds of decoding`);
}

function checkUiForm(form: string, path: string, suffix: string): Invalid | null {
  if (hasDotSegment(form)) return refused(path, 'dot-segment', `it contains a "." or ".." segment${suffix}`);
  if (form.includes('//')) return refused(path, 'empty-segment', `it contains an empty segment ("//")${suffix}`);
  if (form.includes('\\')) return refused(path, 'backslash', `it contains a backslash${suffix}`);
  if (CONTROL.test(form)) return refused(path, 'control-character', `it contains a control character${suffix}`);
  const lower = form.toLowerCase();
  const reserved = RESERVED.find((prefix) => lower.startsWith(prefix));
  if (reserved !== undefined) return refused(path, 'reserved-path', `decoded and lowercased, it starts with "${reserved}", which is not a UI path`);
  return form === GATE_OWN || form.startsWith(`${GATE_OWN}/`) ? gateOwn(path) : null;
}

/**
 * `/-/` is the gate's own namespace (health, metrics, the account page). The
 * gate's routes answer its exact paths before this parser runs, so any `/-/`
 * path that reaches it (`/-/account/`, `/-/Account`) is one the gate does not
 * serve: 404, never forwarded to zot.
 */
const GATE_OWN = '/-';

function gateOwn(path: string): Invalid {
  const message = `path ${quote(path)} is not served: paths under "/-/" are the gate's own and never forwarded`;
  return { status: 404, code: 'UNSUPPORTED', reason: 'gate-path-unknown', message };
}

// ---- /v2 routes ------------------------------------------------------------

/** What a `/v2` path can address. */
type V2Route = Exclude<RegistryRoute, { kind: 'metrics' | 'ui' }>;

const ok = (value: V2Route): Outcome<V2Route> => ({ ok: true, value });
const failed = (invalid: Invalid): Outcome<V2Route> => ({ ok: false, invalid });

/**
 * Routes are matched from the end: a name may itself hold segments such as
 * `blobs` or `manifests` (`/v2/a/blobs/manifests/latest` is the manifest
 * `latest` of `a/blobs`). Every named route needs a name of one segment or more.
 */
function matchRoute(method: string, segments: readonly string[]): Outcome<V2Route> {
  const [first, second, third] = segments;
  const count = segments.length;
  if (count === 1 && first === '') return ok({ kind: 'base' });
  if (count === 1 && first === '_catalog') return ok({ kind: 'catalog' });
  if ((first === '_zot' || first === '_oci') && second === 'ext' && third !== undefined && third !== '') {
    return ok({ kind: 'extension', extension: third });
  }
  const last = segments[count - 1] ?? '';
  const kind = segments[count - 2];
  if (count >= 4 && segments[count - 3] === 'blobs' && kind === 'uploads') {
    return withName(segments.slice(0, -3), (name) => {
      if (last === '') return ok({ kind: 'upload-start', name });
      const problem = checkSessionId(last);
      return problem === null ? ok({ kind: 'upload', name, session: last }) : failed(problem);
    });
  }
  if (count < 3) return ok({ kind: 'unknown' });
  const named = segments.slice(0, -2);
  switch (kind) {
    case 'manifests':
      return withName(named, (name) => withReference(method, name, last));
    case 'blobs':
      return withName(named, (name) => withDigest(last, (digest) => ({ kind: 'blob', name, digest })));
    case 'referrers':
      return withName(named, (name) => withDigest(last, (digest) => ({ kind: 'referrers', name, digest })));
    case 'tags':
      return last === 'list' ? withName(named, (name) => ok({ kind: 'tags', name })) : ok({ kind: 'unknown' });
    default:
      return ok({ kind: 'unknown' });
  }
}

function withName(segments: readonly string[], build: (name: string) => Outcome<V2Route>): Outcome<V2Route> {
  const name = segments.join('/');
  const problem = checkName(name);
  return problem === null ? build(name) : failed(problem);
}

/**
 * dist-spec: a reference holding `:` is a digest, anything else a tag. A
 * read of one that is neither is a 404, as zot answers it (it looks the
 * reference up and finds nothing), malformed digests included; a write of
 * one is a 400.
 */
function withReference(method: string, name: string, reference: string): Outcome<V2Route> {
  const digest = reference.includes(':');
  const problem = digest ? checkDigest(reference) : checkTag(reference);
  if (problem !== null) return failed(method === 'GET' || method === 'HEAD' ? unknownManifest(name, reference) : problem);
  return ok({ kind: 'manifest', name, reference: digest ? { kind: 'digest', digest: reference } : { kind: 'tag', tag: reference } });
}

function unknownManifest(name: string, reference: string): Invalid {
  const message = `manifest ${quote(reference)} is not known in repository "${name}": it is neither a tag nor a digest`;
  return { status: 404, code: 'MANIFEST_UNKNOWN', reason: 'reference-grammar', message };
}

function withDigest(digest: string, build: (digest: string) => V2Route): Outcome<V2Route> {
  const problem = checkDigest(digest);
  return problem === null ? ok(build(digest)) : failed(problem);
}

type Forwardable = Exclude<V2Route, { kind: 'extension' | 'unknown' }>;

function canonicalPath(route: Forwardable): string {
  switch (route.kind) {
    case 'base':
      return '/v2/';
    case 'catalog':
      return '/v2/_catalog';
    case 'manifest': {
      const { reference } = route;
      return `/v2/${route.name}/manifests/${reference.kind === 'tag' ? reference.tag : reference.digest}`;
    }
    case 'blob':
      return `/v2/${route.name}/blobs/${route.digest}`;
    case 'upload-start':
      return `/v2/${route.name}/blobs/uploads/`;
    case 'upload':
      return `/v2/${route.name}/blobs/uploads/${route.session}`;
    case 'tags':
      return `/v2/${route.name}/tags/list`;
    case 'referrers':
      return `/v2/${route.name}/referrers/${route.digest}`;
  }
}
