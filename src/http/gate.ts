/**
 * The one authorization hook. Data flows one way: request → route → identity
 * → decision → (forward | error). Everything it decides comes from the pure
 * core (registry/, policy/); this file only gathers inputs and maps verdicts
 * to responses.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/types.js';
import { parseAuthorization } from '../identity/credentials.js';
import { resolveIdentity, type ApiKeyVerifier, type AuthFailure } from '../identity/resolve.js';
import type { Identity } from '../identity/types.js';
import { readableFilter } from '../policy/access.js';
import { authorize, decideBase, type DecidableRequirement, type Verdict } from '../policy/authorize.js';
import type { Principal } from '../policy/types.js';
import { parseRequest } from '../registry/parse.js';
import { requirementOf } from '../registry/requirements.js';
import type { ParsedRequest, Requirement } from '../registry/types.js';
import { fetchCatalog, paginate } from '../proxy/catalog.js';
import { tagState } from '../proxy/tag-state.js';
import type { Upstream } from '../proxy/upstream.js';
import { isZotUi, sendOciError, type OciError } from './oci-error.js';

export interface GateContext {
  readonly upstreamUrl: string;
  readonly identity: Identity;
}

declare module 'fastify' {
  interface FastifyRequest {
    gate?: GateContext;
  }
}

export interface GateDeps {
  readonly config: () => Config;
  readonly apiKeys: ApiKeyVerifier;
  readonly upstream: Upstream;
  readonly now: () => Date;
}

const CLIENT_FACING: Partial<Record<AuthFailure, string>> = {
  'multiple-authorization': 'more than one Authorization header',
  'malformed-authorization': 'the Authorization header is malformed',
  'unsupported-scheme': 'only Basic credentials are accepted',
};

export function principalOf(identity: Identity): Principal {
  if (identity.kind === 'anonymous') return { name: null, groups: [] };
  return { name: identity.name, groups: identity.groups, ...(identity.scopes ? { scopes: identity.scopes } : {}) };
}

/** Builds the onRequest hook for registry traffic (everything the gate forwards). */
export function gateHook(deps: GateDeps) {
  return async function gate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const config = deps.config();
    const challenge = { realm: config.auth.realm };
    const parsed = parseRequest(request.method, request.raw.url ?? '/');
    if (!parsed.ok) {
      const { code, message, reason } = parsed.invalid;
      return void sendOciError(request, reply, { status: 400, code, message, reason });
    }

    const credentials = parseAuthorization(request.raw.rawHeaders);
    const resolution = credentials.ok ? resolveIdentity(credentials.credentials, deps) : credentials;
    if (!resolution.ok) {
      request.log.info({ authFailure: resolution.reason }, 'authentication failed');
      // zot's failDelay: slow down guessing, on failures only.
      if (config.auth.failDelayMs > 0) await new Promise((r) => setTimeout(r, config.auth.failDelayMs));
      const message = CLIENT_FACING[resolution.reason] ?? 'invalid credentials';
      const reason = resolution.reason in CLIENT_FACING ? resolution.reason : 'invalid-credentials';
      return void sendOciError(request, reply, { status: 401, code: 'UNAUTHORIZED', message, reason }, challenge);
    }
    const identity = resolution.identity;
    const requirement = requirementOf(request.method, parsed.request);
    const principal = principalOf(identity);

    switch (requirement.kind) {
      case 'refused':
        return void sendOciError(request, reply, {
          status: requirement.status,
          code: requirement.status === 405 ? 'UNSUPPORTED' : 'DENIED',
          message: requirement.message,
          reason: requirement.reason,
        });
      case 'base':
        return void answerBase(request, reply, config, principal);
      case 'catalog':
        return void (await answerCatalog(request, reply, deps.upstream, readableFilter(config.accessControl, principal), parsed.request));
      case 'none':
        request.gate = { upstreamUrl: parsed.request.upstreamUrl, identity };
        return;
      default: {
        const verdict = await decide(deps.upstream, config, principal, requirement);
        if ('error' in verdict) return void sendOciError(request, reply, verdict.error);
        if (!verdict.allow) return void sendOciError(request, reply, refusal(identity, verdict, requirement), challenge);
        request.gateReason = verdict.decision.reason;
        request.gate = { upstreamUrl: parsed.request.upstreamUrl, identity };
      }
    }
  };
}

async function decide(
  upstream: Upstream,
  config: Config,
  principal: Principal,
  requirement: DecidableRequirement,
): Promise<Verdict | { error: OciError }> {
  const existingTags = new Set<string>();
  if (requirement.kind === 'tag-write') {
    for (const tag of requirement.tags) {
      const state = await tagState(upstream, requirement.repository, tag);
      if (state.kind === 'unknown') {
        // Fail closed: without knowing whether the tag exists, create and update cannot be told apart.
        return {
          error: {
            status: 503,
            code: 'UNAVAILABLE',
            message: `cannot tell whether tag "${tag}" exists in "${requirement.repository}"; nothing was written, retry later`,
            reason: 'tag-state-unknown',
            detail: { upstream: state.detail },
          },
        };
      }
      if (state.kind === 'present') existingTags.add(tag);
    }
  }
  return authorize({ ac: config.accessControl, principal, requirement, existingTags });
}

function refusal(identity: Identity, verdict: Verdict, requirement: Requirement): OciError {
  const { decision, check, tag } = verdict;
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
  const detail = {
    ...(check ? { action: check.action, repository: check.repository } : {}),
    ...(tag !== undefined ? { tag } : {}),
    ...(decision.pattern !== undefined ? { pattern: decision.pattern } : {}),
  };
  if (identity.kind === 'anonymous') {
    return { status: 401, code: 'UNAUTHORIZED', message: `authentication required to ${what}`, reason: decision.reason, detail };
  }
  return { status: 403, code: 'DENIED', message: `user "${identity.name}" may not ${what}`, reason: decision.reason, detail };
}

function answerBase(request: FastifyRequest, reply: FastifyReply, config: Config, principal: Principal): void {
  const decision = decideBase(config.accessControl, principal, isZotUi(request));
  if (!decision.allow) {
    const error = { status: 401, code: 'UNAUTHORIZED', message: 'authentication required', reason: decision.reason } as const;
    sendOciError(request, reply, error, { realm: config.auth.realm });
    return;
  }
  request.gateReason = decision.reason;
  reply.code(200).header('docker-distribution-api-version', 'registry/2.0').header('content-type', 'application/json').send('{}');
}

async function answerCatalog(
  request: FastifyRequest,
  reply: FastifyReply,
  upstream: Upstream,
  readable: (repository: string) => boolean,
  parsed: ParsedRequest,
): Promise<void> {
  const n = parsed.query.find(([k]) => k === 'n')?.[1];
  const last = parsed.query.find(([k]) => k === 'last')?.[1] ?? null;
  const page = paginate((await fetchCatalog(upstream)).filter(readable), n === undefined ? null : Number(n), last);
  request.gateReason = 'catalog-filtered';
  if (page.link !== null) reply.header('link', page.link);
  reply.code(200).header('content-type', 'application/json').send(JSON.stringify({ repositories: page.repositories }));
}
