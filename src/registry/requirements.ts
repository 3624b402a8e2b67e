/**
 * Route + method → what the request needs before it may be forwarded: every
 * row of the request → action table (README, "How decisions are made"). A method a route does not have is
 * refused here, so nothing the table does not name reaches zot.
 */
import { quote } from './grammar.js';
import type { Action, ParsedRequest, RegistryRoute, Requirement } from './types.js';

const NONE: Requirement = { kind: 'none' };

/**
 * What `method` on `request` needs. Methods are compared as sent: HTTP
 * methods are case-sensitive (RFC 9110 §9.1), so `get` is not `GET`.
 */
export function requirementOf(method: string, request: ParsedRequest): Requirement {
  const { route } = request;
  // The gate answers no CORS preflight: zot's UI is served from the same origin.
  if (method === 'OPTIONS') return notAllowed(method, route);
  if (route.kind === 'unknown') {
    const path = request.upstreamUrl;
    const message = `${quote(path)} is neither an OCI distribution route nor a zot extension; it is not forwarded`;
    return { kind: 'refused', status: 403, reason: 'unknown-route', message };
  }
  return ofRoute(method, request, route) ?? notAllowed(method, route);
}

type Known = Exclude<RegistryRoute, { kind: 'unknown' }>;

/** The requirement, or undefined when the route does not have `method`. */
function ofRoute(method: string, request: ParsedRequest, route: Known): Requirement | undefined {
  const read = method === 'GET' || method === 'HEAD';
  switch (route.kind) {
    case 'base':
      return read ? { kind: 'base' } : undefined;
    case 'catalog':
      return method === 'GET' ? { kind: 'catalog' } : undefined;
    case 'metrics':
      return read ? { kind: 'metrics' } : undefined;
    // zot's UI is static content and read-only; its writes go to /zot/auth, which the gate serves.
    case 'ui':
      return read ? NONE : undefined;
    case 'extension':
      return ofExtension(method, route.extension);
    case 'manifest':
      if (read) return repository(route.name, 'read');
      if (method === 'PUT') return manifestPut(request, route);
      return method === 'DELETE' ? repository(route.name, 'delete') : undefined;
    case 'blob':
    case 'tags':
    case 'referrers':
      if (read) return repository(route.name, 'read');
      return method === 'DELETE' && route.kind === 'blob' ? repository(route.name, 'delete') : undefined;
    case 'upload-start':
      return method === 'POST' ? uploadStart(request, route.name) : undefined;
    case 'upload':
      return uploadSession(method, route.name);
  }
}

function repository(name: string, action: Action): Requirement {
  return { kind: 'repository', checks: [{ repository: name, action }] };
}

/**
 * A PUT by tag writes that tag; a PUT by digest writes the `?tag=` tags, if
 * any (dist-spec v1.1), else only needs `create`.
 */
function manifestPut(request: ParsedRequest, route: Extract<Known, { kind: 'manifest' }>): Requirement {
  const tags = new Set(route.reference.kind === 'tag' ? [route.reference.tag] : []);
  for (const [key, value] of request.query) if (key === 'tag') tags.add(value);
  if (tags.size === 0) return repository(route.name, 'create');
  return { kind: 'tag-write', repository: route.name, tags: [...tags] };
}

/** A mount reads its source: `create` on the target and `read` on `from`. */
function uploadStart(request: ParsedRequest, name: string): Requirement {
  const mount = request.query.some(([key]) => key === 'mount');
  const from = request.query.find(([key]) => key === 'from')?.[1];
  if (!mount || from === undefined) return repository(name, 'create');
  return {
    kind: 'repository',
    checks: [
      { repository: name, action: 'create' },
      { repository: from, action: 'read' },
    ],
  };
}

/** dist-spec upload session: GET status, PATCH chunk, PUT close, DELETE cancel. */
function uploadSession(method: string, name: string): Requirement | undefined {
  switch (method) {
    case 'GET':
      return repository(name, 'read');
    case 'PATCH':
    case 'PUT':
      return repository(name, 'create');
    case 'DELETE':
      return repository(name, 'delete');
    default:
      return undefined;
  }
}

const EXTENSION_ACTIONS: Readonly<Record<string, Action>> = {
  GET: 'read',
  HEAD: 'read',
  POST: 'create',
  PUT: 'create',
  PATCH: 'create',
  DELETE: 'delete',
};

/**
 * `mgmt` describes the server to zot's UI and is anonymous; `search` answers
 * about every repository, so it needs `read` on all of them; every other
 * extension (cosign, notation, userprefs, discover, future ones) is admin-only.
 */
function ofExtension(method: string, extension: string): Requirement | undefined {
  const read = method === 'GET' || method === 'HEAD';
  if (extension === 'mgmt' && read) return NONE;
  if (extension === 'search' && (read || method === 'POST')) return { kind: 'read-all' };
  const action = Object.hasOwn(EXTENSION_ACTIONS, method) ? EXTENSION_ACTIONS[method] : undefined;
  return action === undefined ? undefined : { kind: 'admin', action };
}

const DESCRIBED: Readonly<Record<Exclude<Known['kind'], 'extension'>, string>> = {
  base: 'the API version check (/v2/)',
  catalog: 'the catalog',
  metrics: 'metrics',
  ui: 'the zot UI, which is read-only',
  manifest: 'a manifest',
  blob: 'a blob',
  'upload-start': 'an upload start (blobs/uploads/)',
  upload: 'an upload session',
  tags: 'the tag list',
  referrers: 'the referrers list',
};

function describe(route: RegistryRoute): string {
  if (route.kind === 'unknown') return 'an unknown /v2/ path';
  if (route.kind === 'extension') return `the ${quote(route.extension)} extension`;
  return DESCRIBED[route.kind];
}

function notAllowed(method: string, route: RegistryRoute): Requirement {
  const message = `${method} is not allowed on ${describe(route)}`;
  return { kind: 'refused', status: 405, reason: 'method-not-allowed', message };
}
