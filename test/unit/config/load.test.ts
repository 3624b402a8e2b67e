import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../../src/config/load.js';
import { formatProblem } from '../../../src/config/problems.js';
import { formatDuration, parseDuration } from '../../../src/policy/duration.js';

const minimal = {
  upstream: { url: 'http://127.0.0.1:5051' },
  dataDir: '/var/lib/zot-gate',
  accessControl: { repositories: { '**': { anonymousPolicy: ['read'] } } },
};

function problemsOf(raw: unknown): string[] {
  try {
    parseConfig(raw, '/etc/zot-gate/zot-gate.json');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
  return [];
}

describe('durations', () => {
  it.each([
    ['3s', 3_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['90d', 7_776_000_000],
    ['0s', 0],
    ['2 h', null],
    ['2H', null],
    ['1.5h', null],
    ['-1d', null],
    ['', null],
    ['90', null],
  ])('%j → %j ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    [7_776_000_000, '90d'],
    [7_200_000, '2h'],
    [90_000, '90s'],
  ])('%d ms formats as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('parseConfig', () => {
  it('applies defaults and freezes the result', () => {
    const config = parseConfig(minimal, '/etc/zot-gate/zot-gate.json');
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 5050 });
    expect(config.upstream).toEqual({ origin: 'http://127.0.0.1:5051', timeoutMs: 30_000 });
    expect(config.auth.failDelayMs).toBe(1000);
    expect(config.auth.realm).toBe('zot');
    expect(config.auth.sessionMaxAgeMs).toBe(7_200_000);
    expect(config.auth.apikeyMaxLifetimeMs).toBeNull();
    expect(config.auth.openid).toBeNull();
    expect(config.immutableTags).toEqual([]);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.accessControl.repositories['**'])).toBe(true);
    expect(() => {
      (config.listen as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('resolves a relative dataDir against the config file', () => {
    expect(parseConfig({ ...minimal, dataDir: '../data' }, '/srv/gate/config/zot-gate.json').dataDir).toBe('/srv/gate/data');
  });

  it('reports shape and meaning problems together, each as "subject: problem (rule)"', () => {
    const problems = problemsOf({
      ...minimal,
      upstream: { url: 'ftp://127.0.0.1' },
      auth: { apikey: { maxLifetime: '90 days' }, failDelay: -1 },
      accessControl: {
        repositories: {
          '**': { policies: [{ groups: ['ci'], actions: ['read', 'push'] }] },
          'team/[': { anonymousPolicy: ['read'] },
        },
        adminPolicy: { users: ['root'], actions: ['delete'], conditions: ['request.ip == "1"'] },
      },
      immutableTag: [],
    });
    expect(problems).toEqual([
      'immutableTag: unknown field (a typo?) (object-additional-properties)',
      'auth.failDelay: expected number to be greater or equal to 0 (number-minimum)',
      'upstream.url: "ftp://127.0.0.1" must be http or https (url)',
      'auth.apikey.maxLifetime: "90 days" is not a duration such as 30s, 15m, 2h or 90d (duration)',
      'accessControl.repositories["**"].policies[0].actions[1]: "push" is not one of read, create, update, delete (enum)',
      'accessControl.repositories["team/["]: "team/[" unclosed "[" (glob)',
      'accessControl.adminPolicy.conditions: CEL conditions are not supported by zot-gate; remove them or split the policy (unsupported)',
    ]);
  });

  it('reports every semantic problem once the shape is right', () => {
    const problems = problemsOf({
      ...minimal,
      upstream: { url: 'ftp://127.0.0.1' },
      auth: { apikey: { maxLifetime: '90 days' } },
      accessControl: {
        repositories: {
          '**': { policies: [{ groups: ['ci'], actions: ['read', 'push'] }] },
          'team/[': { anonymousPolicy: ['read'] },
        },
        adminPolicy: { users: ['root'], actions: ['delete'], conditions: ['request.ip == "1"'] },
        metrics: { anonymousPolicy: ['create'] },
      },
      immutableTags: [{ repositories: [], tags: ['v*'] }],
    });
    expect(problems).toEqual([
      'upstream.url: "ftp://127.0.0.1" must be http or https (url)',
      'auth.apikey.maxLifetime: "90 days" is not a duration such as 30s, 15m, 2h or 90d (duration)',
      'accessControl.repositories["**"].policies[0].actions[1]: "push" is not one of read, create, update, delete (enum)',
      expect.stringMatching(/^accessControl\.repositories\["team\/\["\]: "team\/\[" .+ \(glob\)$/),
      'accessControl.adminPolicy.conditions: CEL conditions are not supported by zot-gate; remove them or split the policy (unsupported)',
      'accessControl.metrics.anonymousPolicy[0]: "create" is not allowed; metrics are only read (enum)',
      'immutableTags[0].repositories: needs at least one glob (non-empty)',
    ]);
  });

  it.each([
    [{ ...minimal, externalUrl: 'https://registry.example.org/v2' }, 'externalUrl: "https://registry.example.org/v2" must be an origin, without a path or query (url)'],
    [{ ...minimal, auth: { trustedIssuers: [{ issuer: 'http://idp.example.org/', audience: 'zot', claimMapping: {} }] } }, 'auth.trustedIssuers[0].issuer: "http://idp.example.org/" must be https (http is accepted only for a loopback host) (https)'],
    [{ ...minimal, auth: { openid: { providers: { oidc: { issuer: 'https://idp.example.org/', credentialsFile: '/nonexistent/creds.json' } } } } }, 'auth.openid.providers.oidc.credentialsFile: cannot read /nonexistent/creds.json (file)'],
    [{ upstream: minimal.upstream, accessControl: minimal.accessControl }, 'dataDir: is required (object-required-property)'],
    [{ ...minimal, listen: { port: 70000 } }, 'listen.port: expected integer to be less or equal to 65535 (integer-maximum)'],
  ])('%#: %s', (raw, expected) => {
    expect(problemsOf(raw)).toContain(expected);
  });

  it('accepts an http issuer on a loopback host (tests, the demo)', () => {
    expect(problemsOf({ ...minimal, auth: { trustedIssuers: [{ issuer: 'http://127.0.0.1:9000/', audience: 'zot', claimMapping: {} }] } })).toEqual([]);
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zot-gate-config-'));

  it('reports a JSON syntax error as a problem of the file', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{ "dataDir": ');
    expect(() => loadConfig(path)).toThrow(ConfigError);
    try {
      loadConfig(path);
    } catch (error) {
      expect((error as ConfigError).problems).toHaveLength(1);
      expect((error as ConfigError).problems[0]?.rule).toBe('json');
    }
  });

  it('reports a missing file', () => {
    expect(() => loadConfig(join(dir, 'absent.json'))).toThrow(/cannot read/);
  });

  it('loads the shipped local default', () => {
    const config = loadConfig('config/zot-gate.json');
    expect(config.upstream.origin).toBe('http://127.0.0.1:5051');
    expect(config.dataDir.endsWith('/data')).toBe(true);
  });
});
