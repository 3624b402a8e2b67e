/**
 * The one authorization hook. Data flows one way: request → route → identity
 * → decision → (forward | error). Everything it decides comes from the pure
 * core (registry/, policy/); this file only gathers inputs (including what the
 * upstream says a tag holds) and maps verdicts to responses.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/types.js';
import { parseAuthorization } from '../identity/credentials.js';
import type { GateTokens } from '../identity/gate-tokens.js';
import { resolveIdentity, type ApiKeyVerifier, type TrustedJwtVerifier } from '../identity/resolve.js';
import { ANONYMOUS, type Identity } from '../identity/types.js';
import { decideRepository, readableFilter } from '../policy/access.js';
import { authorize, decideBase, type DecidableRequirement, type Verdict } from '../policy/authorize.js';
import type { Principal } from '../policy/types.js';
import { decideUploadSession } from '../policy/uploads.js';
import { parseRequest } from '../registry/parse.js';
import { requirementOf } from '../registry/requirements.js';
import { scopeOf } from '../registry/scope.js';
import { isZotUi, publicOrigin, serviceOf } from './origin.js';
import type { ParsedRequest, RegistryRoute, Requirement } from '../registry/types.js';
import { catalogFailure, fetchCatalog, paginate } from '../proxy/catalog.js';
import type { ManifestDelete } from '../proxy/manifest-delete.js';
import type { ManifestGuardDeps, ManifestWrite } from '../proxy/manifest-guard.js';
import type { UploadSessions } from '../proxy/upload-sessions.js';
import { noteAuthFailure, noteDecision, noteIdentity, noteRegistry } from '../observability/observation.js';
import { mgmtAnswer } from '../proxy/mgmt.js';
import type { Sessions } from '../sso/sessions.js';
import type { AuthThrottling } from './auth-throttling.js';
import { sendOciError, type Challenge } from './oci-error.js';
import { CLIENT_FACING, credentialsRefused, refusal } from './refusal.js';

export interface GateContext {
  readonly upstreamUrl: string;
  readonly identity: Identity;
  readonly principal: Principal;
  readonly route: RegistryRoute;
  /** set for manifest PUTs: the forward handler runs the write guard instead of streaming */
  readonly manifestWrite?: ManifestWrite;
  /** set for manifest DELETEs: the forward handler runs the delete guard */
  readonly manifestDelete?: ManifestDelete;
}

declare module 'fastify' {
  interface FastifyRequest {
    gate?: GateContext;
  }
}

/** What resolving a request's identity needs. */
export interface AuthDeps {
  readonly apiKeys: ApiKeyVerifier;
  readonly gateTokens: GateTokens;
  readonly trusted?: TrustedJwtVerifier;
  readonly sessions: Sessions;
  readonly now: () => Date;
  readonly throttle: AuthThrottling;
}

export interface GateDeps extends ManifestGuardDeps, AuthDeps {
  readonly uploads: UploadSessions;
}


export function principalOf(identity: Identity): Principal {
  if (identity.kind === 'anonymous') return { name: null, groups: [] };
  return { name: identity.name, groups: identity.groups, ...(identity.scopes ? { scopes: identity.scopes } : {}) };
}

/**
 * Builds the onRequest hook for registry traffic (everything the gate
 * forwards). Every path that answers returns the reply, as Fastify requires
 * of an async hook that responds: the response may still be on its way (an
 * audit event is written first, request-observer.ts), and returning nothing
 * would let the request run on into the proxy.
 */
export function gateHook(deps: GateDeps) {
  return async function gate(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const config = deps.config();
    const parsed = parseRequest(request.method, request.raw.url ?? '/');
    if (!parsed.ok) {
      noteRegistry(request, 'invalid');
      const { status = 400, code, message, reason } = parsed.invalid;
      return sendOciError(request, reply, { status, code, message, reason });
    }
    noteRegistry(request, parsed.request);
    const requirement = requirementOf(request.method, parsed.request);
    // Built only when a 401 needs it: most requests never do.
    const challenge = () => challengeFor(request, config, scopeOf(requirement));
    const identity = await authenticate(request, reply, deps, config, challenge);
    if (identity === null) return reply;
    const principal = principalOf(identity);
    const { route, upstreamUrl } = parsed.request;
    const pass = (extra: Partial<GateContext> = {}) => {
      request.gate = { upstreamUrl, identity, principal, route, ...extra };
    };

    switch (requirement.kind) {
      case 'refused':
        noteDecision(request, 'none', { allow: false, reason: requirement.reason });
        return sendOciError(request, reply, {
          status: requirement.status,
          code: requirement.status === 405 ? 'UNSUPPORTED' : 'DENIED',
          message: requirement.message,
          reason: requirement.reason,
        });
      case 'base':
        return answerBase(request, reply, config, principal);
      case 'catalog':
        return answerCatalog(request, reply, deps, readableFilter(config.accessControl, principal), parsed.request);
      case 'none':
        if (route.kind === 'extension' && route.extension === 'mgmt') {
          const answer = await mgmtAnswer(deps.upstream, upstreamUrl, config);
          request.gateReason = 'mgmt';
          return reply.code(answer.status).header('content-type', 'application/json').send(request.method === 'HEAD' ? undefined : answer.body);
        }
        return void pass();
      default:
        break;
    }

    if (route.kind === 'manifest' && request.method === 'PUT') {
      // The full decision needs the body's digest and the tags' state under a lock: the
      // forward handler runs it. Refuse here already whoever could neither create nor update.
      const repository = route.name;
      const canWrite = (['create', 'update'] as const).some((a) => decideRepository(config.accessControl, principal, repository, a).allow);
      if (!canWrite) {
        const decision = decideRepository(config.accessControl, principal, repository, 'create');
        noteDecision(request, 'create', decision);
        const what = `push to repository "${repository}" (neither create nor update is granted)`;
        const error = refusal(identity, { decision, action: 'create', repository, what });
        return sendOciError(request, reply, error, challenge());
      }
      const tags = requirement.kind === 'tag-write' ? requirement.tags : [];
      return void pass({ manifestWrite: { repository, tags, upstreamUrl, identity, principal } });
    }

    const verdict = authorize({ ac: config.accessControl, principal, requirement: requirement as DecidableRequirement });
    const action = verdict.check?.action ?? (requirement.kind === 'admin' ? requirement.action : 'read');
    noteDecision(request, action, verdict.decision);
    if (!verdict.allow) return sendOciError(request, reply, refusal(identity, refusedOf(verdict, requirement)), challenge());
    request.gateReason = verdict.decision.reason;

    if (route.kind === 'manifest' && request.method === 'DELETE') {
      // Whether an immutable tag is in the way is decided under the repository's write lock.
      return void pass({ manifestDelete: { repository: route.name, reference: route.reference, upstreamUrl, identity, principal } });
    }

    if (route.kind === 'upload') {
      const decision = decideUploadSession(deps.uploads.ownerOf(route.name, route.session), principal);
      if (!decision.allow) {
        noteDecision(request, action, decision);
        if (decision.reason === 'authentication-required') {
          // The challenge asks for what opening a session needs (pull,push), whatever this method reads.
          const what = `use upload ${route.session} in repository "${route.name}"`;
          const scope = scopeOf({ kind: 'repository', checks: [{ repository: route.name, action: 'create' }] });
          return sendOciError(request, reply, refusal(identity, { decision, what, repository: route.name }), challengeFor(request, config, scope));
        }
        return sendOciError(request, reply, {
          status: 404,
          code: 'BLOB_UPLOAD_UNKNOWN',
          message: `upload ${route.session} is not known in repository "${route.name}"`,
          reason: decision.reason,
        });
      }
    }
    pass();
  };
}

/**
 * The request's one identity (README, "How clients prove who they are"), noted for metrics and
 * the audit trail. Refused credentials are answered here — 401 with
 * `challenge`, 503 when a trusted issuer's keys cannot be fetched, 429 when
 * failures locked the client (auth-throttling.ts) — and give null.
 */
export async function authenticate(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: AuthDeps,
  config: Config,
  challenge: () => Challenge,
): Promise<Identity | null> {
  const credentials = parseAuthorization(request.raw.rawHeaders);
  if (deps.throttle.refuseLocked(request, reply, credentials) !== null) return null;
  const resolution = credentials.ok
    ? await resolveIdentity(credentials.credentials, {
        ...deps,
        maxKeyLifetimeMs: config.auth.apikeyMaxLifetimeMs,
        service: serviceOf(request, config),
      })
    : credentials;
  if (!resolution.ok) {
    noteAuthFailure(request, resolution.reason);
    request.log.info({ authFailure: resolution.reason, ...('detail' in resolution ? { detail: resolution.detail } : {}) }, 'authentication failed');
    // zot's failDelay, growing with repeated failures, or a lock: on failures only.
    if ((await deps.throttle.failed(request, reply, credentials, resolution.reason, config)) !== null) return null;
    const refused = credentialsRefused(resolution.reason, CLIENT_FACING);
    sendOciError(request, reply, refused, refused.status === 401 ? challenge() : undefined);
    return null;
  }
  deps.throttle.succeeded(request, credentials, resolution.identity);
  const identity = resolution.identity.kind === 'anonymous' ? await sessionIdentity(request, deps.sessions) : resolution.identity;
  noteIdentity(request, identity);
  return identity;
}

/**
 * zot's rule, and a CSRF guard: a browser session counts on registry routes
 * only with zot's UI header, which a cross-site form or image cannot send.
 */
async function sessionIdentity(request: FastifyRequest, sessions: Sessions): Promise<Identity> {
  if (!isZotUi(request)) return ANONYMOUS;
  const session = await sessions.read(request);
  return session === null ? ANONYMOUS : { kind: 'user', name: session.user, groups: session.groups, method: 'session' };
}

function refusedOf(verdict: Verdict, requirement: Requirement) {
  const { check, tag } = verdict;
  const what =
    check === undefined
      ? requirement.kind === 'metrics'
        ? 'read metrics'
        : requirement.kind === 'read-all'
          ? 'use search, which needs read on every repository'
          : `${requirement.kind === 'admin' ? requirement.action : 'do this'} (admins only)`
      : tag !== undefined
        ? `overwrite tag "${tag}" in repository "${check.repository}" (needs update)`
        : `${check.action} in repository "${check.repository}"`;
  return { decision: verdict.decision, what, ...(check ?? {}), ...(tag !== undefined ? { tag } : {}) };
}

/** The challenge a 401 carries: the Docker token flow's Bearer (default), or zot's plain Basic. */
export function challengeFor(request: FastifyRequest, config: Config, scope?: string): Challenge {
  if (config.auth.challenge === 'basic') return { kind: 'basic', realm: config.auth.realm };
  const realm = `${publicOrigin(request, config)}/zot/auth/token`;
  return { kind: 'bearer', realm, service: serviceOf(request, config), ...(scope !== undefined ? { scope } : {}) };
}

function answerBase(request: FastifyRequest, reply: FastifyReply, config: Config, principal: Principal): FastifyReply {
  const decision = decideBase(config.accessControl, principal, isZotUi(request));
  noteDecision(request, 'base', decision);
  if (!decision.allow) {
    const error = { status: 401, code: 'UNAUTHORIZED', message: 'authentication required', reason: decision.reason } as const;
    return sendOciError(request, reply, error, challengeFor(request, config));
  }
  request.gateReason = decision.reason;
  return reply.code(200).header('docker-distribution-api-version', 'registry/2.0').header('content-type', 'application/json').send('{}');
}

async function answerCatalog(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: GateDeps,
  readable: (repository: string) => boolean,
  parsed: ParsedRequest,
): Promise<FastifyReply> {
  const n = parsed.query.find(([k]) => k === 'n')?.[1];
  const last = parsed.query.find(([k]) => k === 'last')?.[1] ?? null;
  let names: string[];
  try {
    names = await fetchCatalog(deps.upstream);
  } catch (error) {
    request.log.warn({ err: error }, 'catalog not read from the registry');
    return sendOciError(request, reply, catalogFailure(error));
  }
  const page = paginate(names.filter(readable), n === undefined ? null : Number(n), last);
  request.gateReason = 'catalog-filtered';
  noteDecision(request, 'read', { allow: true, reason: 'catalog-filtered' });
  if (page.link !== null) reply.header('link', page.link);
  return reply.code(200).header('content-type', 'application/json').send(JSON.stringify({ repositories: page.repositories }));
}
