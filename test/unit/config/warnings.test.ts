/**
 * Config warnings: what a valid config may still get wrong. Here, the
 * `email` username (it needs email_verified: true, which Authentik 2025.10
 * and later do not send by default) and `allowUnverifiedEmail`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConfigCommand } from '../../../src/commands/check-config.js';
import { parseConfig } from '../../../src/config/load.js';
import { configWarnings, formatWarning } from '../../../src/config/warnings.js';

const SOURCE = '/etc/zot-gate/zot-gate.json';
const READABLE = fileURLToPath(import.meta.url);
const minimal = {
  upstream: { url: 'http://127.0.0.1:5051' },
  dataDir: '/var/lib/zot-gate',
  accessControl: { repositories: { '**': { anonymousPolicy: ['read'] } } },
};
const provider = (over: Record<string, unknown> = {}) => ({ issuer: 'https://authentik.example.org/application/o/zot/', credentialsFile: READABLE, ...over });
const trusted = (over: Record<string, unknown> = {}) => ({ issuer: 'https://ci.example.org', audience: 'zot', claimMapping: {}, ...over });
const warningsOf = (auth: Record<string, unknown>) => configWarnings(parseConfig({ ...minimal, auth }, SOURCE)).map(formatWarning);

const EMAIL_LOGIN =
  'warning: auth.openid.providers.oidc.claimMapping.username: "email" is the username (the default), so a login needs email_verified: true, and Authentik 2025.10 and later send false for every user by default. ' +
  'To proceed: make the IdP send email_verified: true (in Authentik, a custom email scope mapping), or set claimMapping.username to "preferred_username" where users cannot change their username, ' +
  'or set allowUnverifiedEmail: true where users cannot change their email address; see docs/authentik.md';
const ALLOWED_LOGIN =
  "warning: auth.openid.providers.oidc.allowUnverifiedEmail: an email address the IdP has not verified is accepted as the username: whoever can set their email address at the IdP to another user's signs in as that user, " +
  'if that user has not signed in yet (a username stays bound to the IdP account that first signed in with it); use it only where users cannot change their own email address';

describe('configWarnings', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    ['no SSO, no trusted issuers', {}, []],
    ['an OpenID provider with the default claimMapping (email)', { openid: { providers: { oidc: provider() } } }, [EMAIL_LOGIN]],
    ['email named explicitly', { openid: { providers: { oidc: provider({ claimMapping: { username: 'email' } }) } } }, [EMAIL_LOGIN]],
    ['preferred_username', { openid: { providers: { oidc: provider({ claimMapping: { username: 'preferred_username' } }) } } }, []],
    ['email with allowUnverifiedEmail', { openid: { providers: { oidc: provider({ allowUnverifiedEmail: true }) } } }, [ALLOWED_LOGIN]],
    [
      'allowUnverifiedEmail with another username claim',
      { openid: { providers: { oidc: provider({ claimMapping: { username: 'preferred_username' }, allowUnverifiedEmail: true }) } } },
      ['warning: auth.openid.providers.oidc.allowUnverifiedEmail: has no effect: the username is the "preferred_username" claim, not "email"'],
    ],
    [
      'a trusted issuer with the email username',
      { trustedIssuers: [trusted({ claimMapping: { username: 'preferred_username' } }), trusted({ issuer: 'https://other.example.org' })] },
      [
        'warning: auth.trustedIssuers[1].claimMapping.username: "email" is the username (the default), so a token needs email_verified: true, and Authentik 2025.10 and later send false for every user by default. ' +
          "To proceed: make the issuer send email_verified: true, or map the username to another claim (claimMapping.username), or set allowUnverifiedEmail: true where nobody can get a token with another's address; see docs/authentik.md",
      ],
    ],
    [
      'a trusted issuer with allowUnverifiedEmail',
      { trustedIssuers: [trusted({ allowUnverifiedEmail: true })] },
      [
        "warning: auth.trustedIssuers[0].allowUnverifiedEmail: an email address the IdP has not verified is accepted as the username: anyone who can get a token from this issuer carrying another user's email address acts as that user; " +
          'use it only where users cannot change their own email address',
      ],
    ],
  ])('%s', (_name, auth, expected) => {
    expect(warningsOf(auth)).toEqual(expected);
  });

  it('allowUnverifiedEmail defaults to false and must be a boolean', () => {
    const config = parseConfig({ ...minimal, auth: { openid: { providers: { oidc: provider() } }, trustedIssuers: [trusted()] } }, SOURCE);
    expect([config.auth.openid?.providers[0]?.allowUnverifiedEmail, config.auth.trustedIssuers[0]?.allowUnverifiedEmail]).toEqual([false, false]);
    expect(() => parseConfig({ ...minimal, auth: { openid: { providers: { oidc: provider({ allowUnverifiedEmail: 'yes' }) } } } }, SOURCE)).toThrow(
      'auth.openid.providers.oidc.allowUnverifiedEmail: expected boolean (boolean)',
    );
  });
});

describe('check-config prints warnings on stderr and exits 0', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warnings-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('warning lines, then ok on stdout', async () => {
    const file = join(dir, 'zot-gate.json');
    await writeFile(file, JSON.stringify({ ...minimal, auth: { openid: { providers: { oidc: provider() } } } }));
    const out: string[] = [];
    const err: string[] = [];
    expect(checkConfigCommand(['--config', file], (line) => out.push(line), (line) => err.push(line))).toBe(0);
    expect(err).toEqual([EMAIL_LOGIN]);
    expect(out).toEqual([`${file}: ok`]);
  });
});
