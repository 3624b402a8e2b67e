/**
 * zot's API-key endpoints on the gate, `GET/POST/DELETE /zot/auth/apikey`, as
 * contract tests against zot's shapes and statuses (pkg/api/routes.go
 * GetAPIKeys, CreateAPIKey, RevokeAPIKey; pkg/meta/types APIKeyDetails):
 * real gate, real distribution registry behind it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/identity/apikey.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { basic, ociBody, send, type RawResponse } from '../support/http.js';
import { sealedSession } from '../support/session.js';

const accessControl = {
  repositories: { '**': { anonymousPolicy: ['read'], policies: [{ groups: ['artifact-workloads'], actions: ['read', 'create'] }] } },
};

const PATH = '/zot/auth/apikey';
const ZOT_UI = { 'x-zot-api-client': 'zot-ui' } as const;
const JSON_TYPE = { 'content-type': 'application/json' } as const;
const DAY = 86_400_000;
const ZERO_TIME = '0001-01-01T00:00:00Z';
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** zot's APIKeyDetails, in its field order */
const DETAILS = ['createdAt', 'expirationDate', 'isExpired', 'creatorUa', 'generatedBy', 'lastUsed', 'label', 'scopes', 'uuid'];

interface Details {
  createdAt: string;
  expirationDate: string;
  isExpired: boolean;
  creatorUa: string;
  generatedBy: string;
  lastUsed: string;
  label: string;
  scopes: string[];
  uuid: string;
  apiKey?: string;
}

let registry: Registry;
let gate: GateUnderTest;
/** alice: unscoped, no expiry */
let aliceKey: string;
let aliceKeyId: string;
let bobKey: string;
let bobKeyId: string;

beforeAll(async () => {
  registry = await startRegistry();
  gate = await startGate({ upstream: registry.url, accessControl });
  ({ key: aliceKey, record: { id: aliceKeyId } } = await gate.store.create({ owner: 'alice', label: 'boot', expiresAt: null, scopes: [], groups: ['artifact-workloads'] }));
  ({ key: bobKey, record: { id: bobKeyId } } = await gate.store.create({ owner: 'bob', label: 'bob', expiresAt: null, scopes: [], groups: ['artifact-workloads'] }));
}, 60_000);

afterAll(async () => {
  await gate?.stop();
  await registry?.stop();
});

const asAlice = () => ({ authorization: basic('alice', aliceKey) });

function api(g: GateUnderTest, method: string, headers: Record<string, string>, options: { body?: string; query?: string } = {}): Promise<RawResponse> {
  return send(g.url, { method, path: PATH + (options.query ?? ''), headers, ...(options.body !== undefined ? { body: options.body } : {}) });
}

function create(g: GateUnderTest, headers: Record<string, string>, payload: unknown): Promise<RawResponse> {
  return api(g, 'POST', { ...JSON_TYPE, ...headers }, { body: JSON.stringify(payload) });
}

/**
 * A browser session exactly as the gate seals it (sessions.ts `{i, u, p, c}`), with the gate's own key;
 * the user's groups recorded in the key store, as their login would.
 */
async function sessionCookie(g: GateUnderTest, user: string, groups: string[]): Promise<string> {
  await g.store.setUserGroups(user, groups);
  return sealedSession(g.config.dataDir, { i: randomBytes(16).toString('base64url'), u: user });
}

/** RFC 3339 without fractional seconds, `days` from now. */
function inDays(days: number): string {
  return new Date(Date.now() + days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function startUpload(g: GateUnderTest, user: string, key: string, repository = 'team/app'): Promise<RawResponse> {
  return send(g.url, { method: 'POST', path: `/v2/${repository}/blobs/uploads/`, headers: { authorization: basic(user, key) } });
}


describe('authentication: an API key, or the session with zot\'s UI header', () => {
  const unauthenticated = ociBody('UNAUTHORIZED', 'authentication required to manage API keys', 'authentication-required');
  const invalid = ociBody('UNAUTHORIZED', 'invalid credentials', 'invalid-credentials');
  type Row = readonly [name: string, headers: () => Promise<Record<string, string>>, challenge: string | undefined, body: unknown];
  const rows: Row[] = [
    ['no credentials', async () => ({}), 'Basic realm="zot"', unauthenticated],
    ['no credentials, zot UI', async () => ({ ...ZOT_UI }), undefined, unauthenticated],
    ['an unknown key', async () => ({ authorization: basic('alice', 'zak_00000000000000000000000000000000') }), 'Basic realm="zot"', invalid],
    ['an unknown key, zot UI', async () => ({ ...ZOT_UI, authorization: basic('alice', 'zak_00000000000000000000000000000000') }), undefined, invalid],
    ["alice's key under bob's name", async () => ({ authorization: basic('bob', aliceKey) }), 'Basic realm="zot"', invalid],
    ['a password that is not a key', async () => ({ authorization: basic('alice', 'hunter2') }), 'Basic realm="zot"', invalid],
    ['a Bearer token', async () => ({ authorization: 'Bearer abc.def.ghi' }), 'Basic realm="zot"', invalid],
    ['a session cookie without the UI header', async () => ({ cookie: await sessionCookie(gate, 'carol', []) }), 'Basic realm="zot"', unauthenticated],
    ['a session cookie sealed with another key, zot UI', async () => ({ ...ZOT_UI, cookie: await sealedSession(new Uint8Array(32), { i: 'sealed-with-another-key', u: 'carol', g: [], c: 'x' }) }), undefined, unauthenticated],
  ];
  const methods = [
    ['GET', {}],
    ['POST', { body: '{"label":"x"}' }],
    ['DELETE', { query: `?id=${'00000000-0000-4000-8000-000000000000'}` }],
  ] as const;
  const cases = rows.flatMap((row) => methods.map(([method, options]) => [method, ...row, options] as const));

  it.each(cases)('%s with %s → 401', async (method, _name, headers, challenge, body, options) => {
    const before = (await gate.store.list()).length;
    const response = await api(gate, method, { ...JSON_TYPE, ...(await headers()) }, options);
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe(challenge);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.json()).toEqual(body);
    expect((await gate.store.list()).length).toBe(before);
  });

  it('an unauthenticated POST is refused before its body is read: 401, not 413', async () => {
    const response = await api(gate, 'POST', { ...JSON_TYPE }, { body: JSON.stringify({ label: 'x'.repeat(20_000) }) });
    expect(response.status).toBe(401);
    expect(response.json()).toEqual(unauthenticated);
  });

  it('a session cookie with the UI header lists and creates keys for the session user', async () => {
    await gate.store.setUserGroups('carol', ['artifact-workloads']);
    const headers = { ...ZOT_UI, cookie: await sessionCookie(gate, 'carol', ['artifact-workloads']) };
    const created = await create(gate, headers, { label: 'from the UI', scopes: [], expirationDate: '' });
    expect(created.status).toBe(201);
    const { uuid, apiKey } = created.json<Details>();
    const listed = await api(gate, 'GET', headers);
    expect(listed.status).toBe(200);
    expect(listed.json<{ apiKeys: Details[] }>().apiKeys.map((k) => [k.uuid, k.label])).toEqual([[uuid, 'from the UI']]);
    expect((await gate.store.list('carol')).map((r) => r.id)).toEqual([uuid]);
    expect((await startUpload(gate, 'carol', apiKey!)).status).toBe(202);
  });
});

describe('POST: create', () => {
  it('201 with APIKeyDetails then apiKey, in zot\'s field order and types', async () => {
    const before = Date.now();
    const expirationDate = '2031-02-03T04:05:06Z';
    const response = await create(gate, { ...asAlice(), 'user-agent': 'apikey-test/1' }, { label: 'ci', scopes: ['team/**'], expirationDate });
    const after = Date.now();
    expect(response.status).toBe(201);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json<Details>();
    expect(Object.keys(body)).toEqual([...DETAILS, 'apiKey']);
    const { createdAt, uuid, apiKey, ...rest } = body;
    expect(rest).toEqual({
      expirationDate: '2031-02-03T04:05:06.000Z',
      isExpired: false,
      creatorUa: 'apikey-test/1',
      generatedBy: 'manual',
      lastUsed: ZERO_TIME,
      label: 'ci',
      scopes: ['team/**'],
    });
    expect(createdAt).toMatch(RFC3339);
    expect(Date.parse(createdAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(createdAt)).toBeLessThanOrEqual(after);
    expect(uuid).toMatch(UUID);
    expect(apiKey).toMatch(/^zak_[0-9a-f]{32}$/);
    const [stored] = (await gate.store.list('alice')).filter((r) => r.id === uuid);
    expect(stored).toEqual({ id: uuid, hash: hashApiKey(apiKey!), owner: 'alice', label: 'ci', createdAt, expiresAt: '2031-02-03T04:05:06.000Z', lastUsedAt: null, scopes: ['team/**'], parentId: aliceKeyId });
  });

  it('with fields absent or null, as Go fills them: no scopes, no expiry (none bounds it here)', async () => {
    for (const payload of [{ label: 'x' }, { label: 'x', scopes: null, expirationDate: null }, { label: 'x', other: 1 }]) {
      const response = await create(gate, asAlice(), payload);
      expect(response.status).toBe(201);
      const { label, scopes, expirationDate, isExpired } = response.json<Details>();
      expect({ label, scopes, expirationDate, isExpired }).toEqual({ label: 'x', scopes: [], expirationDate: ZERO_TIME, isExpired: false });
    }
  });

  it('a key made through the API pushes: a blob upload POST with it as Basic → 202', async () => {
    const made = (await create(gate, asAlice(), { label: 'push', scopes: [], expirationDate: inDays(1) })).json<Details>();
    const response = await startUpload(gate, 'alice', made.apiKey!);
    expect(response.status).toBe(202);
    expect(response.headers.location).toMatch(/^\/v2\/team\/app\/blobs\/uploads\//);
  });

  it('a body of exactly zot\'s MaxAPIKeyBodySize (8192 bytes) is accepted', async () => {
    const frame = JSON.stringify({ label: 'x', pad: '' });
    const body = JSON.stringify({ label: 'x', pad: 'x'.repeat(8192 - frame.length) });
    expect(body.length).toBe(8192);
    expect((await api(gate, 'POST', { ...JSON_TYPE, ...asAlice() }, { body })).status).toBe(201);
  });

  type Bad = readonly [name: string, status: number, headers: Record<string, string>, body: string | undefined, expected: unknown];
  const payload = (value: unknown) => JSON.stringify(value);
  const bad: Bad[] = [
    ['malformed JSON', 400, JSON_TYPE, '{"label":', ociBody('UNSUPPORTED', 'the request body is not valid JSON', 'malformed-json')],
    ['an empty JSON body', 400, JSON_TYPE, '', ociBody('UNSUPPORTED', 'the request body is not valid JSON', 'malformed-json')],
    ['no body at all', 400, {}, undefined, ociBody('UNSUPPORTED', 'the body must be a JSON object: {"label", "scopes", "expirationDate"}', 'malformed-payload')],
    ['a JSON array', 400, JSON_TYPE, '[]', ociBody('UNSUPPORTED', 'the body must be a JSON object: {"label", "scopes", "expirationDate"}', 'malformed-payload')],
    ['JSON null', 400, JSON_TYPE, 'null', ociBody('UNSUPPORTED', 'the body must be a JSON object: {"label", "scopes", "expirationDate"}', 'malformed-payload')],
    ['a numeric label', 400, JSON_TYPE, payload({ label: 5 }), ociBody('UNSUPPORTED', '"label" must be a string', 'malformed-payload')],
    // the label rule of the account form and the CLI (checkKeyLabel, policy/api-key.ts); zot itself takes any label
    ['no label', 400, JSON_TYPE, payload({}), ociBody('UNSUPPORTED', 'label: give the key a name of 1 to 100 characters', 'label-invalid')],
    ['a null label', 400, JSON_TYPE, payload({ label: null }), ociBody('UNSUPPORTED', 'label: give the key a name of 1 to 100 characters', 'label-invalid')],
    ['a label of 101 characters', 400, JSON_TYPE, payload({ label: 'x'.repeat(101) }), ociBody('UNSUPPORTED', 'label: give the key a name of 1 to 100 characters', 'label-invalid')],
    ['scopes as a string', 400, JSON_TYPE, payload({ scopes: 'team/**' }), ociBody('UNSUPPORTED', '"scopes" must be a list of strings', 'malformed-payload')],
    ['a numeric scope', 400, JSON_TYPE, payload({ scopes: [1] }), ociBody('UNSUPPORTED', '"scopes" must be a list of strings', 'malformed-payload')],
    ['a numeric expirationDate', 400, JSON_TYPE, payload({ expirationDate: 1_900_000_000 }),
      ociBody('UNSUPPORTED', '"expirationDate" must be an RFC 3339 string, or "" for the longest allowed', 'malformed-payload')],
    ['a malformed expirationDate', 400, JSON_TYPE, payload({ expirationDate: '2031-01-01' }),
      ociBody('UNSUPPORTED', 'expirationDate "2031-01-01" is not an RFC 3339 date-time such as 2030-01-02T15:04:05Z', 'expiration-malformed')],
    ['an expirationDate without offset', 400, JSON_TYPE, payload({ expirationDate: '2031-01-01T00:00:00' }),
      ociBody('UNSUPPORTED', 'expirationDate "2031-01-01T00:00:00" is not an RFC 3339 date-time such as 2030-01-02T15:04:05Z', 'expiration-malformed')],
    ['a past expirationDate', 400, JSON_TYPE, payload({ expirationDate: '2020-01-01T00:00:00Z' }),
      ociBody('UNSUPPORTED', 'expirationDate 2020-01-01T00:00:00Z is not in the future', 'expiration-past')],
    ['a scope that is not a glob', 400, JSON_TYPE, payload({ scopes: ['team/**', 'team/[a'] }),
      ociBody('UNSUPPORTED', 'scope "team/[a" is not a valid repository glob: unclosed "["', 'scope-invalid')],
    ['8193 bytes', 413, JSON_TYPE, JSON.stringify({ label: 'x'.repeat(8193 - JSON.stringify({ label: '' }).length) }),
      ociBody('UNSUPPORTED', 'the request body is larger than 8192 bytes', 'body-too-large')],
    ['a text/plain body', 415, { 'content-type': 'text/plain' }, payload({ label: 'x' }),
      ociBody('UNSUPPORTED', 'the request body must be application/json', 'unsupported-media-type')],
    ['a form body', 415, { 'content-type': 'application/x-www-form-urlencoded' }, 'label=x',
      ociBody('UNSUPPORTED', 'the request body must be application/json', 'unsupported-media-type')],
  ];
  it.each(bad)('%s → %i, and no key is made', async (_name, status, headers, body, expected) => {
    const before = (await gate.store.list('alice')).length;
    const response = await api(gate, 'POST', { ...headers, ...asAlice() }, body === undefined ? {} : { body });
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.json()).toEqual(expected);
    expect((await gate.store.list('alice')).length).toBe(before);
  });
});

describe('GET: list', () => {
  it("200 {apiKeys}: the caller's own keys only, in zot's shape, never a secret or a hash", async () => {
    const made = (await create(gate, asAlice(), { label: 'listed', scopes: ['a/*'], expirationDate: '' })).json<Details>();
    await gate.store.create({ owner: 'alice', label: 'expired', expiresAt: new Date(Date.now() - DAY), scopes: [] });
    const response = await api(gate, 'GET', asAlice());
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json<{ apiKeys: Details[] }>();
    expect(Object.keys(body)).toEqual(['apiKeys']);
    const records = await gate.store.list('alice');
    expect(body.apiKeys.map((k) => k.uuid)).toEqual(records.map((r) => r.id));
    expect(body.apiKeys.map((k) => k.uuid)).not.toContain(bobKeyId);
    for (const key of body.apiKeys) {
      expect(Object.keys(key)).toEqual(DETAILS);
      expect(typeof key.isExpired).toBe('boolean');
      for (const field of ['createdAt', 'expirationDate', 'lastUsed'] as const) expect(key[field]).toMatch(RFC3339);
      expect(key.creatorUa).toBe('');
      expect(key.generatedBy).toBe('manual');
    }
    for (const record of records) expect(response.body).not.toContain(record.hash);
    expect(response.body).not.toContain(made.apiKey);
    expect(response.body).not.toContain(aliceKey);
    expect(response.body).not.toMatch(/zak_/);
    const byLabel = new Map(body.apiKeys.map((k) => [k.label, k]));
    expect(byLabel.get('listed')).toEqual({ ...made, apiKey: undefined, creatorUa: '' });
    expect(byLabel.get('expired')?.isExpired).toBe(true);
    // the bootstrap key has been used by now
    expect(byLabel.get('boot')?.lastUsed).not.toBe(ZERO_TIME);
  });
});

describe('DELETE: revoke', () => {
  it('revokes a key the caller owns: 200, gone from the list, no longer authenticates', async () => {
    const made = (await create(gate, asAlice(), { label: 'doomed', scopes: [], expirationDate: '' })).json<Details>();
    expect((await startUpload(gate, 'alice', made.apiKey!)).status).toBe(202);
    const response = await api(gate, 'DELETE', asAlice(), { query: `?id=${made.uuid}` });
    expect(response.status).toBe(200);
    expect(response.body).toBe('');
    expect((await api(gate, 'GET', asAlice())).json<{ apiKeys: Details[] }>().apiKeys.map((k) => k.uuid)).not.toContain(made.uuid);
    expect((await startUpload(gate, 'alice', made.apiKey!)).status).toBe(401);
    expect((await api(gate, 'GET', { authorization: basic('alice', made.apiKey!) })).status).toBe(401);
  });

  it('a key can revoke itself', async () => {
    const made = (await create(gate, asAlice(), { label: 'self', scopes: [], expirationDate: '' })).json<Details>();
    const self = { authorization: basic('alice', made.apiKey!) };
    expect((await api(gate, 'DELETE', self, { query: `?id=${made.uuid}` })).status).toBe(200);
    expect((await api(gate, 'GET', self)).status).toBe(401);
  });

  type Row = readonly [name: string, status: number, query: () => string, body: unknown];
  const rows: Row[] = [
    ['an unknown id', 200, () => '?id=00000000-0000-4000-8000-000000000000', ''],
    ['an empty id', 200, () => '?id=', ''],
    ["someone else's id", 200, () => `?id=${bobKeyId}`, ''],
    ['no id', 400, () => '', ociBody('UNSUPPORTED', 'exactly one "id" query parameter is required', 'malformed-query')],
    ['another parameter only', 400, () => `?uuid=${bobKeyId}`, ociBody('UNSUPPORTED', 'exactly one "id" query parameter is required', 'malformed-query')],
    ['two ids', 400, () => `?id=${bobKeyId}&id=${aliceKeyId}`, ociBody('UNSUPPORTED', 'exactly one "id" query parameter is required', 'malformed-query')],
  ];
  it.each(rows)('%s → %i, and nothing is revoked', async (_name, status, query, body) => {
    const before = (await gate.store.list()).map((r) => r.id);
    const response = await api(gate, 'DELETE', asAlice(), { query: query() });
    expect(response.status).toBe(status);
    expect(body === '' ? response.body : response.json()).toEqual(body);
    expect((await gate.store.list()).map((r) => r.id)).toEqual(before);
    expect((await startUpload(gate, 'bob', bobKey)).status).toBe(202);
  });
});

describe('audit', () => {
  it('every create and revoke is one audit line with user and key id; no key is ever logged', async () => {
    const made = (await create(gate, asAlice(), { label: 'audited', scopes: ['x/**'], expirationDate: '' })).json<Details>();
    await api(gate, 'DELETE', asAlice(), { query: `?id=${made.uuid}` });
    const lines = gate.logs.filter((line) => line.audit === true && (line.detail as { keyId?: string } | null)?.keyId === made.uuid);
    expect(lines.map(({ event, identity, authMethod, detail, msg }) => ({ event, identity, authMethod, keyId: (detail as { keyId: string }).keyId, msg }))).toEqual([
      { event: 'key-create', identity: 'alice', authMethod: 'apikey', keyId: made.uuid, msg: 'audit' },
      { event: 'key-revoke', identity: 'alice', authMethod: 'apikey', keyId: made.uuid, msg: 'audit' },
    ]);
    const text = JSON.stringify(gate.logs);
    expect(text).not.toContain(made.apiKey);
    expect(text).not.toContain(aliceKey);
    expect(text).not.toMatch(/zak_[0-9a-f]{32}/);
  });
});

describe('a key-authenticated caller creates keys only within its own scopes and expiry', () => {
  let scoped: string;
  let scopedExpiry: string;

  beforeAll(async () => {
    const expiresAt = new Date(Date.now() + 10 * DAY);
    ({ key: scoped } = await gate.store.create({ owner: 'alice', label: 'team', expiresAt, scopes: ['team/**'] }));
    scopedExpiry = expiresAt.toISOString();
  });

  const outside = (what: string) =>
    ociBody('DENIED', `${what} is outside the scopes of the API key making this request ("team/**"); a key can only create keys within its own scopes`, 'scope-not-covered');
  type Row = readonly [name: string, status: number, scopes: string[], days: number | null, expected: (asked: string) => unknown];
  const rows: Row[] = [
    ['its own scope', 201, ['team/**'], null, () => ({ scopes: ['team/**'], expirationDate: scopedExpiry })],
    ['a repository inside, an earlier expiry', 201, ['team/app'], 5, (asked) => ({ scopes: ['team/app'], expirationDate: new Date(asked).toISOString() })],
    ['a glob under its prefix', 201, ['team/*', 'team'], null, () => ({ scopes: ['team/*', 'team'], expirationDate: scopedExpiry })],
    ['a scope outside', 403, ['team/app', 'other/app'], null, () => outside('scope "other/app"')],
    ['a glob reaching outside', 403, ['team*'], null, () => outside('scope "team*"')],
    ['no scopes (every repository)', 403, [], null, () => outside('a key without scopes (every repository)')],
    ['a later expiry than its own', 403, ['team/app'], 11, (asked) =>
      ociBody('DENIED', `expirationDate ${asked} is later than the API key making this request, which expires at ${scopedExpiry}`, 'expiration-beyond-caller-key')],
  ];
  it.each(rows)('%s → %i', async (_name, status, scopes, days, expected) => {
    const asked = days === null ? '' : inDays(days);
    const response = await create(gate, { authorization: basic('alice', scoped) }, { label: 'child', scopes, expirationDate: asked });
    expect(response.status).toBe(status);
    if (status === 201) expect(response.json()).toMatchObject(expected(asked) as object);
    else expect(response.json()).toEqual(expected(asked));
  });

  it('the child key is scoped in turn: it pushes inside its scopes and not outside', async () => {
    const child = (await create(gate, { authorization: basic('alice', scoped) }, { label: 'child', scopes: ['team/app'], expirationDate: '' })).json<Details>();
    expect((await startUpload(gate, 'alice', child.apiKey!, 'team/app')).status).toBe(202);
    expect((await startUpload(gate, 'alice', child.apiKey!, 'team/other')).status).toBe(403);
  });

  it('a session caller is bound by nothing but maxLifetime: any scopes, no expiry', async () => {
    const headers = { ...ZOT_UI, cookie: await sessionCookie(gate, 'alice', ['artifact-workloads']) };
    const response = await create(gate, headers, { label: 'wide', scopes: [], expirationDate: '' });
    expect(response.status).toBe(201);
    expect(response.json<Details>().expirationDate).toBe(ZERO_TIME);
  });
});

describe('auth.apikey.maxLifetime bounds every new key', () => {
  let bounded: GateUnderTest;
  let key: string;

  beforeAll(async () => {
    bounded = await startGate({ upstream: registry.url, accessControl, extra: { auth: { failDelay: 0, apikey: { maxLifetime: '30d' } } } });
    ({ key } = await bounded.store.create({ owner: 'dave', label: 'boot', expiresAt: null, scopes: [], groups: ['artifact-workloads'] }));
  });
  afterAll(async () => {
    await bounded?.stop();
  });

  it('via a session: no expirationDate → the maximum', async () => {
    const before = Date.now();
    const response = await create(bounded, { ...ZOT_UI, cookie: await sessionCookie(bounded, 'dave', []) }, { label: 'max', scopes: [], expirationDate: '' });
    const after = Date.now();
    expect(response.status).toBe(201);
    const expires = Date.parse(response.json<Details>().expirationDate);
    expect(expires).toBeGreaterThanOrEqual(before + 30 * DAY);
    expect(expires).toBeLessThanOrEqual(after + 30 * DAY);
  });

  it("via an API key: no expirationDate → the maximum, which is the caller key's own end (createdAt + 30d)", async () => {
    const [boot] = await bounded.store.list('dave');
    const response = await create(bounded, { authorization: basic('dave', key) }, { label: 'max', scopes: [], expirationDate: '' });
    expect(response.status).toBe(201);
    expect(response.json<Details>().expirationDate).toBe(new Date(Date.parse(boot!.createdAt) + 30 * DAY).toISOString());
  });

  it('an expiry within it is kept', async () => {
    const expirationDate = inDays(29);
    const response = await create(bounded, { authorization: basic('dave', key) }, { label: 'ok', scopes: [], expirationDate });
    expect(response.status).toBe(201);
    expect(response.json<Details>().expirationDate).toBe(new Date(expirationDate).toISOString());
  });

  it.each([
    ['an API key', async () => ({ authorization: basic('dave', key) })],
    ['a session', async () => ({ ...ZOT_UI, cookie: await sessionCookie(bounded, 'dave', []) })],
  ])('via %s: an expiry beyond it → 400 naming the bound', async (_name, headers) => {
    const expirationDate = inDays(31);
    const response = await create(bounded, await headers(), { label: 'long', scopes: [], expirationDate });
    expect(response.status).toBe(400);
    expect(response.json()).toEqual(
      ociBody('UNSUPPORTED', `expirationDate ${expirationDate} is further away than auth.apikey.maxLifetime (30d) allows`, 'expiration-beyond-max-lifetime'),
    );
  });
});
