/**
 * The checks a schema cannot express (durations, URLs, globs, zot actions),
 * and the defaults. Reads the credentials file only to say whether it exists.
 */
import { accessSync, constants } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, isAbsolute, resolve } from 'node:path';
import { globProblem } from '../policy/glob.js';
import { formatDuration, parseDuration } from '../policy/duration.js';
import type { Problems } from './problems.js';
import type { ConfigFile } from './schema.js';
import type { ClaimMapping, Config } from './types.js';

/** zot's repository actions; `detectManifestCollision` is zot-only and accepted so zot blocks paste verbatim. */
const ACTIONS = new Set(['read', 'create', 'update', 'delete', 'detectManifestCollision']);
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

type Path = Array<string | number>;

type Check = (file: ConfigFile, source: string, problems: Problems) => void;

/**
 * The semantic checks, each independent of the others so that one tripping
 * over a mis-shaped section (the schema reports that) does not hide the rest.
 */
export const SEMANTIC_CHECKS: readonly Check[] = [
  (file, _source, problems) => {
    checkUrl(problems, ['upstream', 'url'], file.upstream.url, { pathAllowed: false });
    if (file.upstream.timeout !== undefined) checkDuration(problems, ['upstream', 'timeout'], file.upstream.timeout);
  },
  (file, _source, problems) => {
    if (file.externalUrl !== undefined) checkUrl(problems, ['externalUrl'], file.externalUrl, { pathAllowed: false });
  },
  (file, _source, problems) => {
    if (file.dataDir.trim() === '') problems.add(['dataDir'], 'must name a directory', 'non-empty');
  },
  (file, _source, problems) => {
    const path = file.audit?.file;
    if (path !== undefined && (path.trim() === '' || path.endsWith('/'))) problems.add(['audit', 'file'], 'must name a file', 'non-empty');
  },
  (file, _source, problems) => {
    const auth = file.auth ?? {};
    if (auth.apikey?.maxLifetime !== undefined) checkDuration(problems, ['auth', 'apikey', 'maxLifetime'], auth.apikey.maxLifetime);
    if (auth.session?.maxAge !== undefined) checkDuration(problems, ['auth', 'session', 'maxAge'], auth.session.maxAge);
  },
  (file, _source, problems) => checkThrottle(file.auth?.throttle ?? {}, problems),
  (file, _source, problems) => {
    (file.auth?.trustedProxies ?? []).forEach((entry, i) => {
      const problem = cidrProblem(entry);
      if (problem !== null) problems.add(['auth', 'trustedProxies', i], `${JSON.stringify(entry)} ${problem}`, 'cidr');
    });
  },
  (file, source, problems) => {
    const openid = file.auth?.openid;
    for (const [id, provider] of Object.entries(openid?.providers ?? {})) {
      const at: Path = ['auth', 'openid', 'providers', id];
      checkIssuer(problems, [...at, 'issuer'], provider.issuer);
      checkReadable(problems, [...at, 'credentialsFile'], resolveFrom(source, provider.credentialsFile));
    }
    (openid?.callbackAllowOrigins ?? []).forEach((origin, i) =>
      checkUrl(problems, ['auth', 'openid', 'callbackAllowOrigins', i], origin, { pathAllowed: false }),
    );
  },
  (file, _source, problems) => {
    const seen = new Set<string>();
    (file.auth?.trustedIssuers ?? []).forEach((trusted, i) => {
      if (seen.has(trusted.issuer)) problems.add(['auth', 'trustedIssuers', i, 'issuer'], `${JSON.stringify(trusted.issuer)} is listed twice`, 'unique');
      seen.add(trusted.issuer);
      checkIssuer(problems, ['auth', 'trustedIssuers', i, 'issuer'], trusted.issuer);
      if (trusted.audience === '') problems.add(['auth', 'trustedIssuers', i, 'audience'], 'must not be empty', 'non-empty');
      if (trusted.jwksUri !== undefined) checkIssuer(problems, ['auth', 'trustedIssuers', i, 'jwksUri'], trusted.jwksUri);
      if (trusted.maxTokenAge !== undefined) {
        checkDuration(problems, ['auth', 'trustedIssuers', i, 'maxTokenAge'], trusted.maxTokenAge);
        if (parseDuration(trusted.maxTokenAge) === 0) problems.add(['auth', 'trustedIssuers', i, 'maxTokenAge'], 'must be longer than 0s', 'positive');
      }
    });
  },
  (file, _source, problems) => checkAccessControl(file.accessControl, problems),
  (file, _source, problems) => {
    (file.immutableTags ?? []).forEach((rule, i) => {
      for (const field of ['repositories', 'tags', 'except'] as const) {
        const globs = rule[field] ?? [];
        if (field !== 'except' && globs.length === 0) problems.add(['immutableTags', i, field], 'needs at least one glob', 'non-empty');
        globs.forEach((glob, j) => checkGlob(problems, ['immutableTags', i, field, j], glob));
      }
    });
  },
];

function checkAccessControl(ac: ConfigFile['accessControl'], problems: Problems): void {
  for (const [pattern, group] of Object.entries(ac.repositories)) {
    const at: Path = ['accessControl', 'repositories', pattern];
    if (pattern !== '') checkGlob(problems, at, pattern);
    checkActions(problems, [...at, 'defaultPolicy'], group.defaultPolicy);
    checkActions(problems, [...at, 'anonymousPolicy'], group.anonymousPolicy);
    group.policies?.forEach((policy, i) => checkPolicy(problems, [...at, 'policies', i], policy));
  }
  if (ac.adminPolicy !== undefined) checkPolicy(problems, ['accessControl', 'adminPolicy'], ac.adminPolicy);
  (ac.metrics?.anonymousPolicy ?? []).forEach((action, i) => {
    if (action !== 'read') problems.add(['accessControl', 'metrics', 'anonymousPolicy', i], `"${action}" is not allowed; metrics are only read`, 'enum');
  });
}

/** The defaults of `auth.throttle`: generous for clients that retry a stale key, still a bound on guessing. */
const THROTTLE_DEFAULTS = { window: '10m', delayAfter: 5, maxFailures: 30, usernameMaxFailures: 60, lockFor: '1m', maxLockFor: '1h' } as const;

function checkThrottle(throttle: NonNullable<NonNullable<ConfigFile['auth']>['throttle']>, problems: Problems): void {
  const at: Path = ['auth', 'throttle'];
  const durations = { window: throttle.window, lockFor: throttle.lockFor, maxLockFor: throttle.maxLockFor };
  for (const [field, text] of Object.entries(durations)) {
    if (text === undefined) continue;
    checkDuration(problems, [...at, field], text);
    if (parseDuration(text) === 0) problems.add([...at, field], 'must be longer than 0s', 'positive');
  }
  const lockFor = parseDuration(throttle.lockFor ?? THROTTLE_DEFAULTS.lockFor);
  const maxLockFor = parseDuration(throttle.maxLockFor ?? THROTTLE_DEFAULTS.maxLockFor);
  if (lockFor !== null && maxLockFor !== null && maxLockFor < lockFor) {
    problems.add([...at, 'maxLockFor'], `must not be shorter than lockFor (${formatDuration(lockFor)})`, 'range');
  }
}

/** The default of `auth.trustedIssuers[].maxTokenAge`: a CI job's token is minutes old; a day covers the longest job. */
const MAX_TOKEN_AGE_DEFAULT = '24h';

/** The default of `auth.trustedProxies`: loopback, where Caddy runs beside the gate. */
const TRUSTED_PROXIES_DEFAULT: readonly string[] = ['127.0.0.0/8', '::1/128'];

/** Why `text` is not an address or CIDR whose forwarded headers may be believed; null when it is one. */
function cidrProblem(text: string): string | null {
  const slash = text.indexOf('/');
  const version = isIP(slash === -1 ? text : text.slice(0, slash));
  if (version === 0) return 'is not an IP address or CIDR such as 10.0.0.0/8 or fd00::/8';
  if (slash === -1) return null;
  const max = version === 4 ? 32 : 128;
  const prefix = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) return `has a prefix length outside 1-${max}`;
  // Trusting every peer is believing every client's X-Forwarded-For: each would choose its own address.
  if (Number(prefix) === 0) return 'trusts every address, so any client could choose its own; list the proxies';
  return null;
}

function checkPolicy(problems: Problems, at: Path, policy: { actions: string[]; conditions?: unknown[] }): void {
  checkActions(problems, [...at, 'actions'], policy.actions);
  if (policy.conditions !== undefined && policy.conditions.length > 0) {
    // Ignoring a condition would grant more than the operator wrote: refuse instead.
    problems.add([...at, 'conditions'], 'CEL conditions are not supported by zot-gate; remove them or split the policy', 'unsupported');
  }
}

function checkActions(problems: Problems, at: Path, actions: readonly string[] | undefined): void {
  actions?.forEach((action, i) => {
    if (!ACTIONS.has(action)) problems.add([...at, i], `"${action}" is not one of read, create, update, delete`, 'enum');
  });
}

function checkGlob(problems: Problems, at: Path, glob: string): void {
  const problem = glob === '' ? 'is empty' : globProblem(glob);
  if (problem !== null) problems.add(at, `${JSON.stringify(glob)} ${problem}`, 'glob');
}

function checkDuration(problems: Problems, at: Path, text: string): void {
  if (parseDuration(text) === null) problems.add(at, `${JSON.stringify(text)} is not a duration such as 30s, 15m, 2h or 90d`, 'duration');
}

function checkUrl(problems: Problems, at: Path, text: string, opts: { pathAllowed: boolean }): URL | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problems.add(at, `${JSON.stringify(text)} is not an absolute URL`, 'url');
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.add(at, `${JSON.stringify(text)} must be http or https`, 'url');
  else if (!opts.pathAllowed && (url.pathname !== '/' || url.search !== '' || url.hash !== '')) {
    problems.add(at, `${JSON.stringify(text)} must be an origin, without a path or query`, 'url');
  }
  return url;
}

// An http:// issuer is only for a loopback host (tests, the demo): tokens over plain http elsewhere are readable.
function checkIssuer(problems: Problems, at: Path, text: string): void {
  const url = checkUrl(problems, at, text, { pathAllowed: true });
  if (url !== null && url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) {
    problems.add(at, `${JSON.stringify(text)} must be https (http is accepted only for a loopback host)`, 'https');
  }
}

function checkReadable(problems: Problems, at: Path, file: string): void {
  try {
    accessSync(file, constants.R_OK);
  } catch {
    problems.add(at, `cannot read ${file}`, 'file');
  }
}

function resolveFrom(source: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dirname(source), path);
}

function claimMapping(mapping: { username?: string; groups?: string } | undefined): ClaimMapping {
  // zot's defaults: the username is the `email` claim, groups the `groups` claim.
  return { username: mapping?.username ?? 'email', groups: mapping?.groups ?? 'groups' };
}

function throttleOf(throttle: NonNullable<NonNullable<ConfigFile['auth']>['throttle']>): Config['auth']['throttle'] {
  const ms = (text: string | undefined, fallback: string) => parseDuration(text ?? fallback) as number;
  return {
    windowMs: ms(throttle.window, THROTTLE_DEFAULTS.window),
    delayAfter: throttle.delayAfter ?? THROTTLE_DEFAULTS.delayAfter,
    maxFailures: throttle.maxFailures ?? THROTTLE_DEFAULTS.maxFailures,
    usernameMaxFailures: throttle.usernameMaxFailures ?? THROTTLE_DEFAULTS.usernameMaxFailures,
    lockForMs: ms(throttle.lockFor, THROTTLE_DEFAULTS.lockFor),
    maxLockForMs: ms(throttle.maxLockFor, THROTTLE_DEFAULTS.maxLockFor),
  };
}

/** Applies defaults; only called on a file without problems. Relative paths are relative to the config file. */
export function normalize(file: ConfigFile, source: string): Config {
  const auth = file.auth ?? {};
  const maxLifetime = auth.apikey?.maxLifetime;
  const openid = auth.openid;
  return {
    source,
    listen: { host: file.listen?.host ?? '127.0.0.1', port: file.listen?.port ?? 5050 },
    externalUrl: file.externalUrl === undefined ? null : new URL(file.externalUrl).origin,
    upstream: { origin: new URL(file.upstream.url).origin, timeoutMs: parseDuration(file.upstream.timeout ?? '30s') ?? 30_000 },
    dataDir: resolveFrom(source, file.dataDir),
    log: { level: file.log?.level ?? 'info' },
    auth: {
      realm: auth.realm ?? 'zot',
      challenge: auth.challenge ?? 'bearer',
      failDelayMs: Math.round((auth.failDelay ?? 1) * 1000),
      throttle: throttleOf(auth.throttle ?? {}),
      apikeyMaxLifetimeMs: maxLifetime === undefined ? null : parseDuration(maxLifetime),
      sessionMaxAgeMs: parseDuration(auth.session?.maxAge ?? '2h') ?? 7_200_000,
      openid:
        openid === undefined
          ? null
          : {
              providers: Object.entries(openid.providers).map(([id, p]) => ({
                id,
                name: p.name ?? id,
                issuer: p.issuer,
                credentialsFile: resolveFrom(source, p.credentialsFile),
                scopes: p.scopes ?? ['openid', 'profile', 'email', 'groups'],
                claimMapping: claimMapping(p.claimMapping),
                allowUnverifiedEmail: p.allowUnverifiedEmail ?? false,
              })),
              callbackAllowOrigins: (openid.callbackAllowOrigins ?? []).map((o) => new URL(o).origin),
            },
      trustedIssuers: (auth.trustedIssuers ?? []).map((t) => ({
        issuer: t.issuer,
        audience: t.audience,
        jwksUri: t.jwksUri ?? null,
        claimMapping: claimMapping(t.claimMapping),
        requiredScope: t.requiredScope ?? null,
        allowUnverifiedEmail: t.allowUnverifiedEmail ?? false,
        maxTokenAgeMs: parseDuration(t.maxTokenAge ?? MAX_TOKEN_AGE_DEFAULT) as number,
      })),
      trustedProxies: [...(auth.trustedProxies ?? TRUSTED_PROXIES_DEFAULT)],
    },
    accessControl: file.accessControl,
    immutableTags: file.immutableTags ?? [],
    audit: { file: file.audit?.file === undefined ? null : resolveFrom(source, file.audit.file) },
  };
}
