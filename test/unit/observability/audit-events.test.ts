/**
 * Which requests are audit events and what each says, as a table: from what
 * the gate noted about a request, its method and its final status.
 */
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../../src/identity/types.js';
import { auditFactsOf, type AuditFacts } from '../../../src/observability/audit-events.js';
import type { Observation } from '../../../src/observability/observation.js';
import type { DecisionReason } from '../../../src/policy/types.js';
import { parseRequest } from '../../../src/registry/parse.js';
import type { ParsedRequest } from '../../../src/registry/types.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const ALICE: Identity = { kind: 'user', name: 'alice', groups: ['devs'], method: 'apikey' };
const ANON: Identity = { kind: 'anonymous' };

function parsed(method: string, url: string): ParsedRequest {
  const result = parseRequest(method, url);
  if (!result.ok) throw new Error(`test fixture ${url} does not parse`);
  return result.request;
}

const as = (identity: Identity): Observation => ({ identity, authMethod: identity.kind === 'anonymous' ? 'anonymous' : identity.method });
const allow = (action: 'read' | 'create' | 'update' | 'delete', reason: DecisionReason = 'group-policy') => ({ decision: { action, allow: true, reason } });
const deny = (action: 'read' | 'create' | 'update' | 'delete' | 'base' | 'none', reason: DecisionReason) => ({ decision: { action, allow: false, reason } });

/** The facts every row shares unless it says otherwise. */
const facts = (over: Partial<AuditFacts>): AuditFacts => ({
  event: 'write',
  identity: 'alice',
  authMethod: 'apikey',
  method: 'PUT',
  repository: 'app',
  reference: null,
  digest: null,
  decision: 'allow',
  reason: 'group-policy',
  status: 201,
  detail: null,
  ...over,
});

interface Row {
  readonly name: string;
  readonly method: string;
  readonly url?: string;
  readonly observation: Observation;
  readonly status: number;
  readonly expected: AuditFacts | null;
}

const rows: Row[] = [
  {
    name: 'manifest PUT allowed: a write of the body digest',
    method: 'PUT',
    url: '/v2/app/manifests/v1',
    observation: { ...as(ALICE), ...allow('create'), digest: D1 },
    status: 201,
    expected: facts({ reference: 'v1', digest: D1 }),
  },
  {
    name: 'manifest PUT refused by the guard: a refusal, still with the body digest',
    method: 'PUT',
    url: '/v2/app/manifests/v1',
    observation: { ...as(ALICE), ...deny('update', 'tag-immutable'), digest: D1, error: { status: 403, reason: 'tag-immutable' } },
    status: 403,
    expected: facts({ event: 'refusal', reference: 'v1', digest: D1, decision: 'deny', reason: 'tag-immutable', status: 403 }),
  },
  {
    name: 'upload close (PUT with digest): a write of that blob',
    method: 'PUT',
    url: `/v2/app/blobs/uploads/abc?digest=${D2}`,
    observation: { ...as(ALICE), ...allow('create') },
    status: 201,
    expected: facts({ digest: D2 }),
  },
  {
    name: 'upload chunk (PATCH): not an event',
    method: 'PATCH',
    url: '/v2/app/blobs/uploads/abc',
    observation: { ...as(ALICE), ...allow('create') },
    status: 202,
    expected: null,
  },
  {
    name: 'upload start without a body: not an event',
    method: 'POST',
    url: '/v2/app/blobs/uploads/',
    observation: { ...as(ALICE), ...allow('create') },
    status: 202,
    expected: null,
  },
  {
    name: 'mount: a write of the mounted blob, naming its source',
    method: 'POST',
    url: `/v2/app/blobs/uploads/?mount=${D2}&from=base`,
    observation: { ...as(ALICE), ...allow('read') },
    status: 201,
    expected: facts({ method: 'POST', digest: D2, detail: { mountFrom: 'base' } }),
  },
  {
    name: 'manifest DELETE by digest allowed: a delete; an immutable tag it removes is in detail',
    method: 'DELETE',
    url: `/v2/app/manifests/${D1}`,
    observation: { ...as(ALICE), ...allow('delete', 'admin-policy'), detail: { immutableTag: 'v1', rule: 'immutableTags[0]' } },
    status: 202,
    expected: facts({ event: 'delete', method: 'DELETE', reference: D1, digest: D1, reason: 'admin-policy', status: 202, detail: { immutableTag: 'v1', rule: 'immutableTags[0]' } }),
  },
  {
    name: 'blob DELETE allowed, the registry answering 404: still a delete, with that status',
    method: 'DELETE',
    url: `/v2/app/blobs/${D2}`,
    observation: { ...as(ALICE), ...allow('delete') },
    status: 404,
    expected: facts({ event: 'delete', method: 'DELETE', reference: D2, digest: D2, status: 404 }),
  },
  {
    name: 'a read: not an event',
    method: 'GET',
    url: '/v2/app/manifests/v1',
    observation: { ...as(ANON), ...allow('read', 'anonymous-policy') },
    status: 200,
    expected: null,
  },
  {
    name: 'refused credentials: the precise failure, no identity',
    method: 'GET',
    url: '/v2/app/tags/list',
    observation: { authMethod: 'apikey', authFailure: 'expired-key', error: { status: 401, reason: 'invalid-credentials' } },
    status: 401,
    expected: facts({ event: 'refusal', identity: null, method: 'GET', decision: 'deny', reason: 'expired-key', status: 401 }),
  },
  {
    name: 'the /v2/ challenge to an anonymous client: not an event',
    method: 'GET',
    url: '/v2/',
    observation: { ...as(ANON), ...deny('base', 'authentication-required'), error: { status: 401, reason: 'authentication-required' } },
    status: 401,
    expected: null,
  },
  {
    name: 'bad credentials at /v2/ (docker login with a wrong key): a refusal',
    method: 'GET',
    url: '/v2/',
    observation: { authMethod: 'apikey', authFailure: 'unknown-key', error: { status: 401, reason: 'invalid-credentials' } },
    status: 401,
    expected: facts({ event: 'refusal', identity: null, method: 'GET', repository: null, decision: 'deny', reason: 'unknown-key', status: 401 }),
  },
  {
    name: 'an upload session someone else opened: a denied decision answered 404 is a refusal',
    method: 'PATCH',
    url: '/v2/app/blobs/uploads/abc',
    observation: { ...as(ALICE), ...deny('create', 'upload-not-owned'), error: { status: 404, reason: 'upload-not-owned' } },
    status: 404,
    expected: facts({ event: 'refusal', method: 'PATCH', decision: 'deny', reason: 'upload-not-owned', status: 404 }),
  },
  {
    name: 'a malformed path (400): not an event',
    method: 'GET',
    observation: { registry: 'invalid', error: { status: 400, reason: 'dot-segment' } },
    status: 400,
    expected: null,
  },
  {
    name: 'a gate endpoint refusing (403 from the key API): a refusal without repository',
    method: 'POST',
    observation: { ...as(ALICE), error: { status: 403, reason: 'scope-not-covered' } },
    status: 403,
    expected: facts({ event: 'refusal', method: 'POST', repository: null, decision: 'deny', reason: 'scope-not-covered', status: 403 }),
  },
  {
    name: 'a throttled client (429 before its credentials were checked): a refusal with the lock as reason',
    method: 'GET',
    observation: { registry: parsed('GET', '/v2/app/manifests/v1'), error: { status: 429, reason: 'address-locked' } },
    status: 429,
    expected: facts({ event: 'refusal', identity: null, authMethod: 'anonymous', method: 'GET', reference: 'v1', decision: 'deny', reason: 'address-locked', status: 429 }),
  },
  {
    name: "a handler's own note wins, whatever else was noted",
    method: 'GET',
    observation: {
      ...as(ANON),
      audit: { event: 'login', identity: 'alice', authMethod: 'session', decision: 'allow', reason: 'idp-login', detail: { provider: 'oidc' } },
    },
    status: 302,
    expected: facts({ event: 'login', authMethod: 'session', method: 'GET', repository: null, reason: 'idp-login', status: 302, detail: { provider: 'oidc' } }),
  },
];

describe('auditFactsOf', () => {
  it.each(rows)('$name', ({ method, url, observation, status, expected }) => {
    const withRoute = url === undefined ? observation : { ...observation, registry: parsed(method, url) };
    expect(auditFactsOf(withRoute, method, status)).toEqual(expected);
  });
});
