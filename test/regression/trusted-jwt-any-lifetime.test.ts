/**
 * Regression: a trusted issuer's JWT of any lifetime was accepted.
 *
 * The attack: a signing key of a trusted issuer (a CI system, the IdP) is
 * briefly misused, or the issuer is misconfigured, and mints a token with
 * `iat` ten years ahead and `exp` a century out. The gate checked only
 * signature, issuer, audience and `exp`, so that one token was a push
 * credential for a hundred years that no key revocation could end — and
 * a token leaked from a CI log a week ago kept working as long as its
 * `exp` said.
 *
 * Now a trusted JWT must carry `iat`, its `iat` may not lie in the future
 * beyond the clock tolerance (60 s), and it is accepted only within
 * `maxTokenAge` of its `iat` (per trusted issuer, default 24h), whatever its
 * `exp` says. `check-config` refuses a `maxTokenAge` that is not a duration.
 * Real gate, real registry, tokens signed against a real JWKS on 127.0.0.1.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConfigCommand } from '../../src/commands/check-config.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { startGate, type GateUnderTest } from '../support/gate.js';
import { ociBody, send, type RawResponse } from '../support/http.js';
import { startIssuer, type LocalIssuer } from '../support/issuer.js';

const AUDIENCE = 'zot-gate-regression';
const HOUR = 3_600;
const YEAR = 365 * 24 * HOUR;
const accessControl = {
  repositories: { '**': { policies: [{ groups: ['artifact-workloads'], actions: ['read', 'create'] }] } },
};
const INVALID = ociBody('UNAUTHORIZED', 'invalid credentials', 'invalid-credentials');

let registry: Registry;
/** A trusted issuer: a JWKS on 127.0.0.1 and the key its tokens are signed with. */
let issuer: LocalIssuer;
let gate: GateUnderTest;

const startWith = (extra: Record<string, unknown> = {}) =>
  startGate({ upstream: registry.url, accessControl, extra: { auth: { failDelay: 0, throttle: { maxFailures: 0, usernameMaxFailures: 0 }, trustedIssuers: [issuer.entry(extra)] } } });

beforeAll(async () => {
  registry = await startRegistry();
  issuer = await startIssuer(AUDIENCE);
  gate = await startWith();
}, 60_000);

afterAll(async () => {
  await gate?.stop();
  await registry?.stop();
  await issuer?.stop();
});

const now = () => Math.floor(Date.now() / 1000);
/** a CI token with these `iat` and `exp` (epoch seconds); `iat: null` leaves it out */
const ciToken = (times: { iat: number | null; exp: number }): Promise<string> =>
  issuer.sign({ preferred_username: 'ci-robot', groups: ['artifact-workloads'] }, times);
const tags = (g: GateUnderTest, token: string): Promise<RawResponse> => send(g.url, { path: '/v2/team/app/tags/list', headers: { authorization: `Bearer ${token}` } });

/** The token is refused as any bad credential is, and the log says which rule refused it. */
async function expectRefused(g: GateUnderTest, token: string, detail: string): Promise<void> {
  g.logs.length = 0;
  const refused = await tags(g, token);
  expect(refused.status).toBe(401);
  expect(refused.json()).toEqual(INVALID);
  expect(g.logs.filter((line) => line.msg === 'authentication failed').map(({ authFailure, detail: d }) => ({ authFailure, detail: d }))).toEqual([{ authFailure: 'untrusted-token', detail }]);
}

describe('a trusted JWT is accepted only within maxTokenAge of a believable iat', () => {
  it('a fresh token (iat now, exp in an hour) is accepted', async () => {
    const response = await tags(gate, await ciToken({ iat: now(), exp: now() + HOUR }));
    // the repository does not exist: the registry's 404, so the token got through
    expect(response.status).toBe(404);
  });

  it('iat ten years ahead, exp a century out: 401', async () => {
    await expectRefused(gate, await ciToken({ iat: now() + 10 * YEAR, exp: now() + 100 * YEAR }), 'token-issued-in-future');
  });

  it('iat two minutes ahead (beyond the 60 s clock tolerance): 401; 30 s ahead: accepted', async () => {
    await expectRefused(gate, await ciToken({ iat: now() + 120, exp: now() + HOUR }), 'token-issued-in-future');
    expect((await tags(gate, await ciToken({ iat: now() + 30, exp: now() + HOUR }))).status).toBe(404);
  });

  it('iat 25 hours ago with exp in the future: 401 under the default maxTokenAge (24h)', async () => {
    await expectRefused(gate, await ciToken({ iat: now() - 25 * HOUR, exp: now() + HOUR }), 'token-too-old');
  });

  it('a token without iat: 401 (its age cannot be known)', async () => {
    await expectRefused(gate, await ciToken({ iat: null, exp: now() + HOUR }), 'token-without-iat');
  });

  it('with maxTokenAge "48h", the token issued 25 hours ago is accepted, one issued 49 hours ago is not', async () => {
    const longer = await startWith({ maxTokenAge: '48h' });
    try {
      expect((await tags(longer, await ciToken({ iat: now() - 25 * HOUR, exp: now() + HOUR }))).status).toBe(404);
      await expectRefused(longer, await ciToken({ iat: now() - 49 * HOUR, exp: now() + HOUR }), 'token-too-old');
    } finally {
      await longer.stop();
    }
  }, 30_000);
});

describe('check-config', () => {
  it.each([
    ['"a day"', 'a day', 'auth.trustedIssuers[0].maxTokenAge: "a day" is not a duration such as 30s, 15m, 2h or 90d (duration)'],
    ['"0s"', '0s', 'auth.trustedIssuers[0].maxTokenAge: must be longer than 0s (positive)'],
  ])('refuses maxTokenAge %s', async (_name, maxTokenAge, problem) => {
    const dir = await makeTempDir('max-token-age');
    try {
      const path = join(dir, 'zot-gate.json');
      const trusted = { issuer: 'https://ci.example.org', audience: 'zot', claimMapping: {}, maxTokenAge };
      await writeFile(path, JSON.stringify({ upstream: { url: 'http://127.0.0.1:5051' }, dataDir: './data', auth: { trustedIssuers: [trusted] }, accessControl }));
      const lines: string[] = [];
      expect(checkConfigCommand(['--config', path], (line) => lines.push(line), (line) => lines.push(line))).toBe(1);
      expect(lines).toEqual([problem, '1 problem(s) in the config']);
    } finally {
      await removeDir(dir);
    }
  });
});
