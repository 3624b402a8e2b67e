/**
 * Admission of registry requests: the onRequest hook in front of everything
 * the gate forwards. It reads as one line: parse → authenticate → decide →
 * forward (setting `request.gate` for the forward handler) or answer. What
 * it decides comes from the pure core (registry/, policy/); which decision a
 * request needs is chosen by its requirement's kind, in the table `ADMIT`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/types.js';
import type { Identity } from '../identity/types.js';
import { readableFilter } from '../policy/access.js';
import { authorize } from '../policy/authorize.js';
import { decideManifestPush } from '../policy/manifest-write.js';
import type { Principal } from '../policy/types.js';
import { decideUploadSession } from '../policy/uploads.js';
import { parseRequest } from '../registry/parse.js';
import { requirementOf } from '../registry/requirements.js';
import { scopeOf } from '../registry/scope.js';
import type { ParsedRequest, RegistryRoute, Requirement } from '../registry/types.js';
import type { ManifestDelete } from '../proxy/manifest-delete.js';
import type { ManifestWrite } from '../proxy/manifest-guard.js';
import type { UploadSessions } from '../proxy/upload-sessions.js';
import type { Upstream } from '../proxy/upstream.js';
import type { DecisionAction } from '../observability/metrics.js';
import { noteDecision, noteRegistry } from '../observability/observation.js';
import { answerBase, answerCatalog, answerMgmt } from './answers.js';
import { authenticate, challengeFor, principalOf, REGISTRY_AUTH, type AuthDeps } from './authenticate.js';
import { sendOciError, type Challenge } from './oci-error.js';
import { refusal, requestInvalid, routeRefused, uploadUnknown, verdictRefused, type Decidable } from './respond.js';

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

export interface AdmissionDeps {
  readonly config: () => Config;
  readonly upstream: Upstream;
  readonly uploads: UploadSessions;
  readonly auth: AuthDeps;
}

/** One request under admission: what a row of `ADMIT` decides from. */
export interface Admission<R extends Requirement = Requirement> {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly deps: AdmissionDeps;
  readonly config: Config;
  readonly parsed: ParsedRequest;
  readonly requirement: R;
  readonly identity: Identity;
  readonly principal: Principal;
  /** the 401 challenge for this requirement's scope */
  challenge(): Challenge;
}

/** The request goes on to the forward handler, with what its guard needs. */
export interface Forward {
  readonly forward: Pick<GateContext, 'manifestWrite' | 'manifestDelete'>;
}

/** A sent (or sending) answer, or a forward. */
export type Outcome = FastifyReply | Forward;

type Row<K extends Requirement['kind']> = (admission: Admission<Extract<Requirement, { kind: K }>>) => Outcome | Promise<Outcome>;

/** What each kind of requirement needs before the request may be forwarded, or who answers it. */
export const ADMIT: { readonly [K in Requirement['kind']]: Row<K> } = {
  refused: refuse,
  none: ({ request, reply, deps, config, parsed }) => {
    const { route } = parsed;
    return route.kind === 'extension' && route.extension === 'mgmt' ? answerMgmt(request, reply, deps.upstream, parsed.upstreamUrl, config) : forward();
  },
  base: ({ request, reply, config, principal }) => answerBase(request, reply, config, principal),
  catalog: ({ request, reply, deps, config, principal, parsed }) => answerCatalog(request, reply, deps.upstream, readableFilter(config.accessControl, principal), parsed),
  'tag-write': admitManifestPut,
  repository: admitRepository,
  metrics: admitByPolicy,
  'read-all': admitByPolicy,
  admin: admitByPolicy,
};

/**
 * The hook. Every path that answers returns the reply, as Fastify requires
 * of an async hook that responds: the response may still be on its way (an
 * audit event is written first, request-observer.ts), and returning nothing
 * would let the request run on into the proxy.
 */
export function registryAdmission(deps: AdmissionDeps) {
  return async function admitRegistryRequest(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const config = deps.config();
    const parsed = parseRequest(request.method, request.raw.url ?? '/');
    if (!parsed.ok) {
      noteRegistry(request, 'invalid');
      return sendOciError(request, reply, requestInvalid(parsed.invalid));
    }
    noteRegistry(request, parsed.request);
    const requirement = requirementOf(request.method, parsed.request);
    // Built only when a 401 needs it: most requests never do.
    const challenge = () => challengeFor(request, config, scopeOf(requirement));
    const authenticated = await authenticate(request, reply, deps.auth, config, REGISTRY_AUTH, challenge);
    if (authenticated === null) return reply;
    const { identity } = authenticated;
    const principal = principalOf(identity);
    const admission = { request, reply, deps, config, parsed: parsed.request, requirement, identity, principal, challenge };
    const outcome = await (ADMIT[requirement.kind] as Row<Requirement['kind']>)(admission);
    if (!isForward(outcome)) return outcome;
    const { route, upstreamUrl } = parsed.request;
    request.gate = { upstreamUrl, identity, principal, route, ...outcome.forward };
    return undefined;
  };
}

function forward(extra: Forward['forward'] = {}): Forward {
  return { forward: extra };
}

function isForward(outcome: Outcome): outcome is Forward {
  return (outcome as Partial<Forward>).forward !== undefined;
}

/** Refused whatever the identity: a method the route does not have (405), an unknown route (403). */
function refuse({ request, reply, requirement }: Admission<Extract<Requirement, { kind: 'refused' }>>): FastifyReply {
  noteDecision(request, 'none', { allow: false, reason: requirement.reason });
  return sendOciError(request, reply, routeRefused(requirement));
}

/**
 * A manifest PUT, by tag or by digest. The full decision needs the body's
 * digest and the tags' state under a lock: the forward handler runs it
 * (proxy/manifest-guard.ts). Refused here already: whoever could neither
 * create nor update in the repository.
 */
function admitManifestPut(admission: Admission<Extract<Requirement, { kind: 'tag-write' | 'repository' }>>): Outcome {
  const { request, reply, config, parsed, requirement, identity, principal } = admission;
  const route = parsed.route as Extract<RegistryRoute, { kind: 'manifest' }>;
  const repository = route.name;
  const push = decideManifestPush(config.accessControl, principal, repository);
  if (!push.allow) {
    const { decision } = push;
    noteDecision(request, 'create', decision);
    const what = `push to repository "${repository}" (neither create nor update is granted)`;
    return sendOciError(request, reply, refusal(identity, { decision, action: 'create', repository, what }), admission.challenge());
  }
  const tags = requirement.kind === 'tag-write' ? requirement.tags : [];
  return forward({ manifestWrite: { repository, tags, upstreamUrl: parsed.upstreamUrl, identity, principal } });
}

/** Checks on repositories; a manifest PUT by digest (no tags, so only `create`) is decided as every manifest PUT. */
async function admitRepository(admission: Admission<Extract<Requirement, { kind: 'repository' }>>): Promise<Outcome> {
  const { request, parsed, identity, principal } = admission;
  const { route, upstreamUrl } = parsed;
  if (route.kind === 'manifest' && request.method === 'PUT') return admitManifestPut(admission);
  const decided = decideByPolicy(admission);
  if (!('action' in decided)) return decided;
  if (route.kind === 'manifest' && request.method === 'DELETE') {
    // Whether an immutable tag is in the way is decided under the repository's write lock.
    return forward({ manifestDelete: { repository: route.name, reference: route.reference, upstreamUrl, identity, principal } });
  }
  if (route.kind === 'upload') return admitUploadSession(admission, route, decided.action);
  return forward();
}

/** Metrics, search, admin routes: the policy's verdict alone. */
function admitByPolicy(admission: Admission<Extract<Requirement, { kind: 'metrics' | 'read-all' | 'admin' }>>): Outcome {
  const decided = decideByPolicy(admission);
  return 'action' in decided ? forward() : decided;
}

/** The policy's verdict, noted; a refusal is answered (the reply), an allowance gives the action it was for. */
function decideByPolicy({ request, reply, config, requirement, identity, principal, challenge }: Admission<Decidable>): FastifyReply | { readonly action: DecisionAction } {
  const verdict = authorize({ ac: config.accessControl, principal, requirement });
  const action = verdict.check?.action ?? (requirement.kind === 'admin' ? requirement.action : 'read');
  noteDecision(request, action, verdict.decision);
  if (!verdict.allow) return sendOciError(request, reply, verdictRefused(identity, verdict, requirement), challenge());
  request.gateReason = verdict.decision.reason;
  return { action };
}

/** An upload session is used only by whoever opened it (policy/uploads.ts), whatever the policy grants besides. */
function admitUploadSession(admission: Admission, route: Extract<RegistryRoute, { kind: 'upload' }>, action: DecisionAction): Outcome {
  const { request, reply, deps, config, identity, principal } = admission;
  const decision = decideUploadSession(deps.uploads.ownerOf(route.name, route.session), principal);
  if (decision.allow) return forward();
  noteDecision(request, action, decision);
  if (decision.reason === 'authentication-required') {
    // The challenge asks for what opening a session needs (pull,push), whatever this method reads.
    const what = `use upload ${route.session} in repository "${route.name}"`;
    const scope = scopeOf({ kind: 'repository', checks: [{ repository: route.name, action: 'create' }] });
    return sendOciError(request, reply, refusal(identity, { decision, what, repository: route.name }), challengeFor(request, config, scope));
  }
  return sendOciError(request, reply, uploadUnknown(route.session, route.name, decision.reason));
}
