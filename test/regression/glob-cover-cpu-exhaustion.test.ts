/**
 * Regression: anyone holding a key stalls the gate with scopes that are
 * costly to compare.
 *
 * Whether one key's scopes lie within another's is glob inclusion
 * (policy/glob-cover.ts), a search of a product of automata that grows with
 * both patterns: `globCovers('*ab'.repeat(85), '?*'.repeat(128))` took 2.5–7 s
 * on the event loop, with no memo and no budget. It runs on every key-grant
 * check (a scoped key minting a key through `POST /zot/auth/apikey`: each
 * scope asked against each scope held) and for every key a scoped key lists
 * or revokes (`GET`/`DELETE /zot/auth/apikey`). The API bounded neither the
 * number nor the length of scopes. So, with any unscoped key:
 *
 *     POST /zot/auth/apikey  {"scopes": [30 patterns like "*ab*ab…" of 255 characters]}   → 201
 *     POST /zot/auth/apikey  {"scopes": ["?*?*…" of 256 characters]}  with that scoped key
 *
 * and the second request held the event loop for a minute: every pull and
 * push behind it stalled. Listing the keys with such a key did the same.
 *
 * Now every way a key is made (zot's API, the account form, the CLI) takes
 * at most 20 scopes of at most 128 characters (400 otherwise), and glob
 * inclusion works within a budget of steps, per question and per decision:
 * when it runs out the answer is "not covered" (unsure is no), so a key made
 * before the caps, with more and longer scopes, is bounded too. Answers are
 * memoised. The gate runs as `zot-gate serve` in its own process, so its
 * event loop is measured from outside: /-/healthz must keep answering.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ApiKeyStore, keyStorePath } from '../../src/identity/apikey-store.js';
import { decideKeyGrant, scopesCover } from '../../src/policy/api-key.js';
import { coverBudget, DECISION_STEPS, globCovers, PAIR_STEPS } from '../../src/policy/glob-cover.js';
import { readNewKey } from '../../src/sso/account-routes.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { cli, serveWithCliKey, type ServedWithKey } from '../support/cli.js';
import { basic, ociBody, send, type RawResponse } from '../support/http.js';

/** Two letters from `i`, to keep every pattern distinct (a memo must not hide the cost). */
const tag = (i: number) => String.fromCharCode(0x61 + (Math.floor(i / 26) % 26), 0x61 + (i % 26));
/** `*ab*ab…*` + tag: a held scope whose automaton needs every `ab` (n ≥ 6 characters at most). */
const costlyHeld = (i: number, n: number) => `${'*ab'.repeat(Math.floor((n - 3) / 3))}*${tag(i)}`;
/** `?*?*…` + tag: an asked scope matching names of any length ≥ n/2, none of which needs an `ab`. */
const costlyAsked = (i: number, n: number) => `${'?*'.repeat(Math.floor((n - 2) / 2))}${tag(i)}`;
const many = (count: number, make: (i: number) => string) => Array.from({ length: count }, (_, i) => make(i));

/** What a healthz probe may take while the costly requests run: far above a normal answer, far below a stall. */
const PROBE_LIMIT_MS = 1_000;

const accessControl = {
  repositories: { '**': { anonymousPolicy: ['read'], policies: [{ groups: ['artifact-workloads'], actions: ['read', 'create'] }] } },
};

let registry: Registry;
let work: string;
let gate: ServedWithKey;
let store: ApiKeyStore;

beforeAll(async () => {
  registry = await startRegistry();
  work = await makeTempDir('glob-cover-dos');
  gate = await serveWithCliKey(
    join(work, 'gate'),
    (port) => ({ listen: { host: '127.0.0.1', port }, upstream: { url: registry.url }, dataDir: './data', auth: { failDelay: 0 }, accessControl }),
    { user: 'alice', groups: 'artifact-workloads' },
  );
  store = await ApiKeyStore.open(keyStorePath(loadConfig(gate.configPath)));
}, 60_000);

afterAll(async () => {
  await gate?.proc.stop();
  await registry?.stop();
  if (work) await removeDir(work);
});

const as = (key: string) => ({ authorization: basic('alice', key) });

function createKey(key: string, scopes: readonly string[], label = 'costly'): Promise<RawResponse> {
  return send(gate.url, { method: 'POST', path: '/zot/auth/apikey', headers: { ...as(key), 'content-type': 'application/json' }, body: JSON.stringify({ label, scopes }) });
}

/**
 * Asks /-/healthz every 50 ms while `pending` runs (at least five times), each
 * probe given up after PROBE_LIMIT_MS; the slowest answer, or Infinity when a
 * probe got none in time (the gate is stalled: no need to keep waiting).
 */
async function slowestHealthzWhile(pending: Promise<unknown>): Promise<number> {
  let done = false;
  pending.then(
    () => (done = true),
    () => (done = true),
  );
  let slowest = 0;
  for (let probe = 0; !done || probe < 5; probe++) {
    const started = performance.now();
    const answered = await fetch(`${gate.url}/-/healthz`, { signal: AbortSignal.timeout(PROBE_LIMIT_MS) }).then(
      async (response) => (await response.text(), response.status === 200),
      () => false,
    );
    if (!answered) return Infinity;
    slowest = Math.max(slowest, performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return slowest;
}

/** Sends the requests, checks the gate kept answering meanwhile, then returns their responses. */
async function whileHealthy(requests: Array<Promise<RawResponse>>): Promise<RawResponse[]> {
  const all = Promise.all(requests);
  all.catch(() => undefined); // a failed test stops the gate under them
  expect(await slowestHealthzWhile(all)).toBeLessThan(PROBE_LIMIT_MS);
  return all;
}

const NOT_SHOWN = (scope: string, held: readonly string[]) =>
  `scope ${JSON.stringify(scope)} could not be shown to lie within the scopes of the API key making this request (${held.map((s) => JSON.stringify(s)).join(', ')}): the patterns are too costly to compare; ask for a simpler scope`;

describe('the caps, wherever a key is made: exact refusals', () => {
  it('POST with 21 scopes: 400 scope-count (the attack made a key with 30)', async () => {
    const response = await createKey(gate.key, many(21, (i) => `team/r${i}`));
    expect(response.status).toBe(400);
    expect(response.json()).toEqual(ociBody('UNSUPPORTED', 'scopes: at most 20 patterns, not 21', 'scope-count'));
  });

  it('POST with a scope of 129 characters: 400 scope-invalid', async () => {
    const scope = `team/${'x'.repeat(124)}`;
    const response = await createKey(gate.key, [scope]);
    expect(response.status).toBe(400);
    expect(response.json()).toEqual(ociBody('UNSUPPORTED', `scope ${JSON.stringify(scope)} is not a valid repository glob: longer than 128 characters`, 'scope-invalid'));
  });

  it('POST with 20 scopes of exactly 128 characters: 201', async () => {
    const response = await createKey(gate.key, many(20, (i) => `team/${tag(i)}${'x'.repeat(121)}`), 'at-the-caps');
    expect(response.status).toBe(201);
  });

  it('the account form says the same', () => {
    const now = new Date();
    const form = (scopes: string) => readNewKey({ label: 'ci', expires: '7d', scopes }, null, now);
    expect(form(many(21, (i) => `team/r${i}`).join(','))).toBe('Repositories: at most 20 patterns, not 21.');
    expect(form(`team/${'x'.repeat(124)}`)).toBe(`Repositories: "team/${'x'.repeat(124)}" is not a valid pattern (longer than 128 characters).`);
  });

  it('apikey create --scope: exit 2, the same words', async () => {
    const scopes = many(21, (i) => `team/r${i}`).flatMap((scope) => ['--scope', scope]);
    const count = await cli(['apikey', 'create', '--user', 'alice', ...scopes, '--config', gate.configPath]);
    expect(count.code).toBe(2);
    expect(count.stderr.split('\n')[0]).toBe('zot-gate: --scope: at most 20 patterns, not 21');
    const long = `team/${'x'.repeat(124)}`;
    const length = await cli(['apikey', 'create', '--user', 'alice', '--scope', long, '--config', gate.configPath]);
    expect(length.code).toBe(2);
    expect(length.stderr.split('\n')[0]).toBe(`zot-gate: --scope ${JSON.stringify(long)} longer than 128 characters`);
  });
});

describe('costly scopes do not stall the gate', () => {
  /** 20 costly held scopes of 126 characters: within the caps, made through the API */
  const held = many(20, (i) => costlyHeld(i, 128));
  let scopedKey: string;

  beforeAll(async () => {
    const created = await createKey(gate.key, held, 'within-the-caps');
    expect(created.status).toBe(201);
    scopedKey = created.json<{ apiKey: string }>().apiKey;
  });

  it('the scoped key asks for costly scopes of 128 characters, three at once: 403 each, and the gate keeps answering', async () => {
    const asked = many(3, (i) => costlyAsked(100 + i, 128));
    const responses = await whileHealthy(asked.map((scope) => createKey(scopedKey, [scope])));
    for (const [i, response] of responses.entries()) {
      expect(response.status).toBe(403);
      expect(response.json()).toEqual(ociBody('DENIED', NOT_SHOWN(asked[i]!, held), 'scope-not-covered'));
    }
  });

  it('it asks for a costly scope of 256 characters (the attack): 400 at once', async () => {
    const scope = costlyAsked(200, 256);
    const [response] = await whileHealthy([createKey(scopedKey, [scope])]);
    expect(response!.status).toBe(400);
    expect(response!.json()).toEqual(ociBody('UNSUPPORTED', `scope ${JSON.stringify(scope)} is not a valid repository glob: longer than 128 characters`, 'scope-invalid'));
  });

  describe('a key from before the caps: 30 costly scopes of 255 characters', () => {
    const oldHeld = many(30, (i) => costlyHeld(300 + i, 255));
    let oldKey: string;
    let listedId: string;

    beforeAll(async () => {
      // written to the store as an older gate would have: the caps are checked where keys are asked for
      oldKey = (await store.create({ owner: 'alice', label: 'before-the-caps', expiresAt: null, scopes: oldHeld })).key;
      // a key whose 20 scopes are each costly to compare with every scope of the old key
      const listed = await createKey(gate.key, many(20, (i) => costlyAsked(400 + i, 128)), 'costly-to-list');
      expect(listed.status).toBe(201);
      listedId = listed.json<{ uuid: string }>().uuid;
    });

    it('it asks for a costly scope of 128 characters: 403, and the gate keeps answering', async () => {
      const scope = costlyAsked(500, 128);
      const [response] = await whileHealthy([createKey(oldKey, [scope])]);
      expect(response!.status).toBe(403);
      expect(response!.json()).toEqual(ociBody('DENIED', NOT_SHOWN(scope, oldHeld), 'scope-not-covered'));
    });

    it('it lists and revokes alice\'s keys, three times at once: answered, the costly key not shown nor revoked, and the gate keeps answering', async () => {
      const list = () => send(gate.url, { path: '/zot/auth/apikey', headers: as(oldKey) });
      const revoke = () => send(gate.url, { method: 'DELETE', path: `/zot/auth/apikey?id=${listedId}`, headers: as(oldKey) });
      const responses = await whileHealthy([list(), revoke(), list()]);
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
      for (const listing of [responses[0]!, responses[2]!]) {
        expect(listing.json<{ apiKeys: Array<{ label: string }> }>().apiKeys.map((k) => k.label)).toEqual(['before-the-caps']);
      }
      expect((await store.list('alice')).some((record) => record.id === listedId)).toBe(true);
    });
  });
});

describe('glob inclusion is bounded in steps, not in time', () => {
  // adversarial pairs: each answered "no" within PAIR_STEPS, however long the patterns
  it.each<[string, string, string]>([
    ['the reported pair', '*ab'.repeat(85), '?*'.repeat(128)],
    ['128 characters each', costlyHeld(1, 128), costlyAsked(1, 128)],
    ['"*a" against "?*"', '*a'.repeat(64), '?*'.repeat(64)],
    ['"*a*b" against "*?"', '*a*b'.repeat(32), '*?'.repeat(64)],
    ['segments', '**/a'.repeat(32), '**/?'.repeat(32)],
    ['many distinct literals', [...'abcdefghijklmnopqrstuvwxyz0123456789'].map((c) => `*${c}`).join(''), '?*'.repeat(64)],
  ])('%s', (_name, outer, inner) => {
    const budget = coverBudget();
    expect(globCovers(outer, inner, budget)).toBe(false);
    expect(budget.spent).toBeLessThanOrEqual(PAIR_STEPS);
  });

  // what people write still gets its exact answer, well within the budget
  it.each<[string, string, boolean]>([
    ['team/*/x', 'team/a*/x', true],
    ['org/*/ci/**', 'org/team-*/ci/build/*', true],
    ['**/cache/**', 'ci/**/cache/*', true],
    ['registry.example.com/team-*/**', 'registry.example.com/team-ab*/app/**', true],
    ['*-*-*-*', '?-??-???-????*', true],
    ['team/*', 'team/**', false],
    ['a*b', 'a*', false],
  ])('%j covers %j: %s', (outer, inner, covers) => {
    const budget = coverBudget();
    expect(globCovers(outer, inner, budget)).toBe(covers);
    expect(budget.ranOut).toBe(false);
    expect(budget.spent).toBeLessThanOrEqual(PAIR_STEPS / 10);
  });

  it('one decision shares one budget: 30 costly held scopes against 20 costly asked ones', () => {
    const held = many(30, (i) => costlyHeld(600 + i, 255));
    const asked = many(20, (i) => costlyAsked(700 + i, 128));
    const budget = coverBudget();
    expect(scopesCover(held, asked, budget)).toBe(false);
    expect(budget.ranOut).toBe(true);
    expect(budget.spent).toBeLessThanOrEqual(DECISION_STEPS);
  });

  it('a key grant that ran out of steps says so', () => {
    const held = many(2, (i) => costlyHeld(800 + i, 128));
    const scope = costlyAsked(800, 128);
    const grant = decideKeyGrant({ kind: 'apikey', scopes: held, expiresAt: null }, { scopes: [scope], expirationDate: '' }, { now: new Date(), maxLifetimeMs: null });
    expect(grant).toEqual({ allow: false, reason: 'scope-not-covered', message: NOT_SHOWN(scope, held) });
  });
});
