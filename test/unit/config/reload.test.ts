/** notApplied(): which restart-only sections a re-read config changes, one row per section. */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { notApplied, RESTART_NEEDED } from '../../../src/config/reload.js';

const SOURCE = '/etc/zot-gate/zot-gate.json';
const base = {
  upstream: { url: 'http://127.0.0.1:5051' },
  dataDir: '/var/lib/zot-gate',
  auth: { failDelay: 0 },
  accessControl: { repositories: { '**': { anonymousPolicy: ['read'] } } },
};
const started = parseConfig(base, SOURCE);
// A file that exists (this one), so that an openid provider's credentialsFile passes check-config.
const credentialsFile = fileURLToPath(import.meta.url);

describe('notApplied', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    ['nothing changed', {}, []],
    ['only per-request settings changed', { auth: { failDelay: 2, realm: 'other', throttle: { maxFailures: 3 } }, externalUrl: 'https://r.example.org', accessControl: { repositories: {} } }, []],
    ['listen', { listen: { port: 6000 } }, ['listen']],
    ['upstream url', { upstream: { url: 'http://127.0.0.1:6001' } }, ['upstream']],
    ['upstream timeout', { upstream: { url: 'http://127.0.0.1:5051', timeout: '5s' } }, ['upstream']],
    ['dataDir', { dataDir: '/srv/zot-gate' }, ['dataDir']],
    ['log level', { log: { level: 'debug' } }, ['log.level']],
    ['an openid provider', { auth: { openid: { providers: { oidc: { issuer: 'https://idp.example.org', credentialsFile } } } } }, ['auth.openid.providers']],
    ['openid callbackAllowOrigins alone (read per request)', { auth: { openid: { providers: {}, callbackAllowOrigins: ['https://ui.example.org'] } } }, []],
    ['trustedIssuers', { auth: { trustedIssuers: [{ issuer: 'https://ci.example.org', audience: 'zot', claimMapping: {} }] } }, ['auth.trustedIssuers']],
    ['trustedProxies', { auth: { trustedProxies: ['10.0.0.0/8'] } }, ['auth.trustedProxies']],
    ['trustedProxies written as the default is no change', { auth: { trustedProxies: ['127.0.0.0/8', '::1/128'] } }, []],
    ['audit.file', { audit: { file: '/var/log/zot-gate/audit.jsonl' } }, ['audit.file']],
  ])('%s → %j', (_name, change, expected) => {
    expect(notApplied(started, parseConfig({ ...base, ...change }, SOURCE))).toEqual(expected);
  });

  it('names every section when all of them change, in RESTART_NEEDED order', () => {
    const next = parseConfig(
      {
        ...base,
        listen: { port: 6000 },
        upstream: { url: 'http://127.0.0.1:6001' },
        dataDir: '/srv/zot-gate',
        log: { level: 'warn' },
        audit: { file: '/var/log/audit.jsonl' },
        auth: {
          openid: { providers: { oidc: { issuer: 'https://idp.example.org', credentialsFile } } },
          trustedIssuers: [{ issuer: 'https://ci.example.org', audience: 'zot', claimMapping: {} }],
          trustedProxies: ['10.0.0.0/8'],
        },
      },
      SOURCE,
    );
    expect(notApplied(started, next)).toEqual([...RESTART_NEEDED]);
  });
});
