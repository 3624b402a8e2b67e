/**
 * Request targets for the parser's properties: well-formed registry targets,
 * the same with one trick spliced in anywhere, a soup of route words, names
 * and tricks, and arbitrary strings. Most targets come close to a route, so
 * that the properties about accepted targets see many of them.
 */
import fc from 'fast-check';

const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });

export const digest = fc.oneof(
  { weight: 4, arbitrary: hex(64).map((h) => `sha256:${h}`) },
  { weight: 1, arbitrary: hex(128).map((h) => `sha512:${h}`) },
  { weight: 1, arbitrary: hex(64).map((h) => `sha256:${h.toUpperCase()}`) },
  { weight: 1, arbitrary: hex(63).map((h) => `sha256:${h}`) },
  { weight: 1, arbitrary: hex(64).map((h) => `md5:${h}`) },
);

const NAME_PIECES = ['app', 'a', 'org', 'b.c', 'a__b', 'a-b', 'x9', 'a_b', 'a--b'];
const ROUTE_WORDS = ['manifests', 'blobs', 'uploads', 'tags', 'list', 'referrers', '_catalog', '_zot', '_oci', 'ext', 'mgmt', 'search', 'v2', 'metrics'];
const TAGS = ['latest', 'v1.0', 'LATEST', '_x', 'v1-rc.1', 'sha256-abc.sig'];
const SESSIONS = ['0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0', 'c3RhdGU=', 'A_b-9'];
// Each one has changed a path's meaning for some parser somewhere.
const TRICKS = [
  '..', '.', '%2e', '%2E%2e', '.%2e', '%2e.', '%2f', '%2F', '%5c', '%5C', '%252e', '%252f', '%25', '%00', '%0a',
  '', ';x=y', 'a;b', '..;', '\\', '\\..', 'é', '\u0000', '\t', ' ', '\r\n', '#', '?', '%', '%zz', '%ff', '%c0%ae',
  '%e2%80%a5', '\u2025', '\uff0e', '+', '*', 'V2', 'Foo', '-a', 'a..b', '\u007f', '%7e', '~', '@', ':', '&',
  '../..', '../../..', '%2e%2e/%2e%2e/%2e%2e', '..\\..',
];

// ---- queries ---------------------------------------------------------------

const E = encodeURIComponent;
/** Parameters the routes use, with values of the right kind, encoded as clients do or not. */
const fittingPair = fc.oneof(
  fc.constantFrom('0', '10', '10000').map((n) => `n=${n}`),
  fc.constantFrom(...NAME_PIECES, ...TAGS).map((last) => `last=${last}`),
  digest.map((d) => `mount=${d}`),
  digest.map((d) => `digest=${E(d)}`),
  fc.constantFrom(...NAME_PIECES, 'org/app', 'org%2Fapp').map((from) => `from=${from}`),
  fc.constantFrom(...TAGS).map((tag) => `tag=${tag}`),
  fc.string({ unit: 'binary', maxLength: 12 }).map((state) => `_state=${E(state)}`),
  fc.constantFrom('application/vnd.example+json', "it's", 'a b').map((type) => `artifactType=${E(type)}`),
);
const QUERY_KEYS = ['n', 'last', 'mount', 'from', 'digest', 'tag', '_state', 'artifactType', 'x', 'fr%6Fm', 'mount%00', 'tag;'];
const anyValue = fc.oneof(
  digest,
  fc.constantFrom(...NAME_PIECES, ...TAGS, ...TRICKS, '10001', '-1', 'a%2Fb', 'a+b', 'x=y'),
  fc.string({ maxLength: 8 }),
);
const anyPair = fc.tuple(fc.constantFrom(...QUERY_KEYS), anyValue).map(([key, value]) => `${key}=${value}`);
const query = fc
  .array(fc.oneof({ weight: 4, arbitrary: fittingPair }, { weight: 1, arbitrary: anyPair }), { maxLength: 4 })
  .chain((pairs) => fc.constantFrom('&', '&', '&', ';', '&&').map((separator) => pairs.join(separator)));
const withQuery = (path: string) => fc.option(query, { nil: undefined }).map((q) => (q === undefined ? path : `${path}?${q}`));

// ---- well-formed targets and near misses -----------------------------------

const name = fc.array(fc.constantFrom(...NAME_PIECES, ...ROUTE_WORDS), { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));
const routeSuffix = fc.oneof(
  fc.oneof(fc.constantFrom(...TAGS), digest).map((reference) => `/manifests/${reference}`),
  digest.map((d) => `/blobs/${d}`),
  fc.constant('/blobs/uploads/'),
  fc.constantFrom(...SESSIONS).map((id) => `/blobs/uploads/${id}`),
  fc.constant('/tags/list'),
  digest.map((d) => `/referrers/${d}`),
);
const OTHER_TARGETS = ['/v2/', '/v2', '/v2/_catalog', '/v2/_zot/ext/search', '/v2/_zot/ext/mgmt', '/v2/_oci/ext/discover', '/metrics', '/', '/home'];

/** `/v2/<name><route>[?query]`, or the base, the catalog, an extension, metrics, a UI path. */
const wellFormed = fc
  .oneof(
    { weight: 6, arbitrary: fc.tuple(name, routeSuffix).map(([n, suffix]) => `/v2/${n}${suffix}`) },
    { weight: 1, arbitrary: fc.constantFrom(...OTHER_TARGETS) },
  )
  .chain(withQuery);

/**
 * A well-formed target with one trick spliced in, in place of 0 to 3
 * characters: anywhere, or (as often) right at a `/` or the start of the query.
 */
const nearMiss = fc
  .tuple(wellFormed, fc.boolean(), fc.nat(), fc.nat({ max: 3 }), fc.constantFrom(...TRICKS, '/', '//', '/..', '/.', '?', '#'))
  .map(([text, atBoundary, at, cut, trick]) => {
    const boundaries = [...text.matchAll(/[/?]/g)].map((match) => match.index);
    const index = atBoundary ? (boundaries[at % boundaries.length] ?? 0) : at % (text.length + 1);
    return `${text.slice(0, index)}${trick}${text.slice(index + cut)}`;
  });

/** Traversals that would splice a second target onto a first one, for some reader. */
const SPLICES = ['/..', '/../..', '/../../..', '/../../../..', '/%2e%2e/%2e%2e/%2e%2e', '/..%2f..%2f..%2f', '/..%252f..%252f..', '\\..\\..\\..', '/;/../../..', '//', '/./', '#/../../..', '?/../../..'];

/** Two well-formed targets joined by a traversal: `/v2/_zot/ext/search/../../../v2/app/manifests/latest`. */
const smuggled = fc
  .tuple(fc.constantFrom(...OTHER_TARGETS, '/v2/_zot/ext/mgmt/x', '/v2/app/tags/list'), fc.constantFrom(...SPLICES), wellFormed)
  .map(([first, splice, second]) => `${first}${splice}${second}`);

// ---- soup and noise --------------------------------------------------------

const segment = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...NAME_PIECES, ...ROUTE_WORDS) },
  { weight: 2, arbitrary: fc.constantFrom(...TAGS, ...SESSIONS) },
  { weight: 1, arbitrary: digest },
  { weight: 3, arbitrary: fc.constantFrom(...TRICKS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);
const PREFIXES = ['/v2/', '/v2', '/', '//', '/V2/', '/v2//', '/v2/_zot/ext/', '/metrics', '/zot/auth/', '', '/%76%32/', '/%2e%2e/v2/', 'http://h/v2/', '/./v2/', '\\v2\\'];
const soup = fc
  .tuple(
    fc.oneof({ weight: 3, arbitrary: fc.constant('/v2/') }, { weight: 2, arbitrary: fc.constantFrom(...PREFIXES) }),
    fc.array(segment, { maxLength: 7 }),
    fc.boolean(),
    fc.option(query, { nil: undefined }),
    fc.option(fc.constantFrom('', 'x', '/../../metrics', 'a?b'), { nil: undefined }),
  )
  .map(([prefix, segments, slash, q, fragment]) =>
    `${prefix}${segments.join('/')}${slash ? '/' : ''}${q === undefined ? '' : `?${q}`}${fragment === undefined ? '' : `#${fragment}`}`,
  );

/** Any string, and any string made a path. */
const noise = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }).map((text) => `/${text}`),
  fc.string({ unit: fc.constantFrom(...'/v2.%;\\?#&=:aZ09_-'), maxLength: 40 }).map((text) => `/${text}`),
);

/** Long names, tags and queries: past every length limit, and big enough to show an echo that is not cut. */
const long = fc
  .tuple(fc.constantFrom(...NAME_PIECES, ...TAGS, ...TRICKS), fc.integer({ min: 40, max: 3000 }), fc.constantFrom('/v2/', '/v2/app/manifests/', '/v2/app/tags/list?last=', '/ui/'))
  .map(([piece, count, prefix]) => `${prefix}${piece.repeat(Math.ceil(count / Math.max(piece.length, 1)))}${prefix === '/v2/' ? '/tags/list' : ''}`);

export const target = fc.oneof(
  { weight: 1, arbitrary: long },
  { weight: 3, arbitrary: wellFormed },
  { weight: 4, arbitrary: nearMiss },
  { weight: 1, arbitrary: smuggled },
  { weight: 3, arbitrary: soup },
  { weight: 2, arbitrary: noise },
);

export const method = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS') },
  { weight: 1, arbitrary: fc.string({ maxLength: 7 }) },
);
