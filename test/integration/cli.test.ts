/**
 * The command line as an operator runs it: `node dist/cli.js …` as a separate
 * process, with exact stdout, stderr and exit status (0 success, 1 a problem the operator can fix, 2 bad usage; only
 * results on stdout). Needs `npm run build` first; `npm test` does it.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USAGE } from '../../src/commands/usage.js';
import { freePort } from '../harness/ports.js';
import { run, startProcess, waitForUrl, waitUntil, type ManagedProcess } from '../harness/process.js';
import { logsOf } from '../support/cli.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { ociError, send } from '../support/http.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const DAY = 86_400_000;
const ZERO_TIME = '0001-01-01T00:00:00Z';
const usageError = (message: string) => `zot-gate: ${message}\n\n${USAGE}\n`;

/** The built CLI, with `ZOT_GATE_CONFIG` unset unless a row sets it, run from the checkout unless told. */
function zotGate(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  const env = { ...process.env, ZOT_GATE_CONFIG: undefined, ...opts.env };
  return run(process.execPath, [join(root, 'dist/cli.js'), ...args], { env, cwd: opts.cwd ?? root, timeoutMs: 20_000 });
}

/** Every stderr line of a gate, parsed: a line that is not JSON fails the test. */

const BASE = { upstream: { url: 'http://127.0.0.1:5051' }, dataDir: './data', accessControl: { repositories: {} } };

const THREE_MISTAKES = {
  upstream: { url: 'http://127.0.0.1:5051', timeuot: '30s' },
  dataDir: './data',
  auth: { apikey: { maxLifetime: '90days' } },
  accessControl: { repositories: { '**': { policies: [{ groups: ['ci'], actions: ['read', 'push'] }] } } },
};
const PROBLEM_LINES = [
  'upstream.timeuot: unknown field (a typo?) (object-additional-properties)',
  'auth.apikey.maxLifetime: "90days" is not a duration such as 30s, 15m, 2h or 90d (duration)',
  'accessControl.repositories["**"].policies[0].actions[1]: "push" is not one of read, create, update, delete (enum)',
];
const PROBLEMS = `${PROBLEM_LINES.join('\n')}\n3 problem(s) in the config\n`;

const EXPLAIN_CONFIG = {
  ...BASE,
  accessControl: {
    repositories: {
      '**': { anonymousPolicy: ['read'], policies: [{ groups: ['artifact-workloads'], actions: ['read', 'create'] }] },
      'blumeops/**': { policies: [{ groups: ['ops'], actions: ['read', 'create', 'update'] }] },
    },
    adminPolicy: { groups: ['admins'], actions: ['read', 'create', 'update', 'delete'] },
  },
  immutableTags: [{ repositories: ['blumeops/**'], tags: ['v*'] }],
};

let work: string;
/** `$name` in a row's args, env, cwd and expected output → a path made in beforeAll */
const paths: Record<string, string> = { root };
const at = (text: string) => text.replace(/\$(\w+)/g, (_, name: string) => paths[name] ?? `$${name}`);

/** Writes `<work>/<name>.json` (or `file`) and records its path as `$name`. */
async function writeJson(name: string, value: unknown, file = join(work, `${name}.json`)): Promise<string> {
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
  return (paths[name] = file);
}

beforeAll(async () => {
  await stat(join(root, 'dist/cli.js')).catch(() => { throw new Error('dist/cli.js is missing: run `npm run build` first'); });
  paths.work = work = await makeTempDir('cli');
  paths.missing = join(work, 'missing.json');
  await writeJson('bad', THREE_MISTAKES);
  await writeJson('good', BASE);
  await writeJson('explain', EXPLAIN_CONFIG);
  await mkdir(join(work, 'config'));
  await writeJson('cwdDefault', THREE_MISTAKES, join(work, 'config', 'zot-gate.json'));
  // the shipped example, with only the paths that name this machine's files replaced
  const example = JSON.parse(await readFile(join(root, 'config/zot-gate.example.json'), 'utf8'));
  example.auth.openid.providers.oidc.credentialsFile = await writeJson('credentials', { clientid: 'x', clientsecret: 'y' });
  example.dataDir = join(work, 'example-data');
  await writeJson('example', example);
});

afterAll(async () => {
  if (work !== undefined) await removeDir(work);
});

describe('check-config', () => {
  type Row = [string, string[], { env?: Record<string, string>; cwd?: string }, number, string, string];
  it.each<Row>([
    ['--config with three kinds of mistake', ['--config', '$bad'], {}, 1, '', PROBLEMS],
    ['--config on a good file', ['--config', '$good'], {}, 0, '$good: ok\n', ''],
    ['ZOT_GATE_CONFIG when --config is absent', [], { env: { ZOT_GATE_CONFIG: '$bad' } }, 1, '', PROBLEMS],
    ['--config over ZOT_GATE_CONFIG', ['--config', '$good'], { env: { ZOT_GATE_CONFIG: '$bad' } }, 0, '$good: ok\n', ''],
    ['the shipped config/zot-gate.json by default', [], {}, 0, '$root/config/zot-gate.json: ok\n', ''],
    ['config/zot-gate.json relative to the working directory', [], { cwd: '$work' }, 1, '', PROBLEMS],
    ['the shipped example, its credentials file and dataDir made local', ['--config', '$example'], {}, 0, '$example: ok\n', ''],
    ['a missing file', ['--config', '$missing'], {}, 1, '',
      "(file): cannot read: ENOENT: no such file or directory, open '$missing' (file)\n1 problem(s) in the config\n"],
  ])('%s', async (_name, args, opts, code, stdout, stderr) => {
    const env = Object.fromEntries(Object.entries(opts.env ?? {}).map(([k, v]) => [k, at(v)]));
    const result = await zotGate(['check-config', ...args.map(at)], { env, ...(opts.cwd ? { cwd: at(opts.cwd) } : {}) });
    expect(result).toEqual({ code, stdout: at(stdout), stderr: at(stderr) });
  });
});

describe('explain', () => {
  const LONGEST = 'pattern: "blumeops/**" (longest of 2 matching: "blumeops/**", "**")';
  const IMMUTABLE = 'immutable: immutableTags[0] repositories ["blumeops/**"] tags ["v*"] — existing tag cannot be overwritten';
  it.each<[string, string[], string[]]>([
    ['an anonymous read', ['--repo', 'library/alpine', '--action', 'read'], [
      'decision: allow (anonymous-policy)', 'request: read on "library/alpine" by anonymous',
      'pattern: "**" (the only matching key)', 'rule: repositories["**"].anonymousPolicy']],
    ['the longest pattern decides alone: no fallback to "**"', ['--user', 'ci', '--groups', 'artifact-workloads', '--repo', 'blumeops/app', '--action', 'create'], [
      'decision: deny (action-not-granted)', 'request: create on "blumeops/app" by ci (groups: artifact-workloads)', LONGEST,
      'rule: none (repositories["blumeops/**"] does not grant create to ci; nor does adminPolicy)']],
    ['an admin deletes an immutable tag', ['--user', 'alice', '--groups', 'admins', '--repo', 'blumeops/app', '--action', 'delete', '--tag', 'v1'], [
      'decision: allow (admin-policy)', 'request: delete on "blumeops/app" by alice (groups: admins)', LONGEST,
      'rule: adminPolicy.groups: admins', `${IMMUTABLE}; deleting it needs an admin identity`]],
    ['update of an immutable tag, even with update granted', ['--user', 'bob', '--groups', 'ops', '--repo', 'blumeops/app', '--action', 'update', '--tag', 'v1'], [
      'decision: deny (tag-immutable)', 'request: update on "blumeops/app" by bob (groups: ops)', LONGEST,
      'rule: immutableTags[0]', `${IMMUTABLE} (re-pushing the same digest is accepted)`]],
    ['update of a tag no rule names', ['--user', 'bob', '--groups', 'ops', '--repo', 'blumeops/app', '--action', 'update', '--tag', 'latest'], [
      'decision: allow (group-policy)', 'request: update on "blumeops/app" by bob (groups: ops)', LONGEST,
      'rule: repositories["blumeops/**"].policies[0].groups: ops', 'immutable: no immutableTags rule matches tag "latest"']],
  ])('%s', async (_name, args, lines) => {
    const result = await zotGate(['explain', '--config', paths.explain!, ...args]);
    expect(result).toEqual({ code: 0, stdout: `${lines.join('\n')}\n`, stderr: '' });
  });

  it.each<[string, string[], string]>([
    ['missing --repo', ['--action', 'read'], '--repo is required'],
    ['an action zot does not have', ['--repo', 'x', '--action', 'push'], '--action must be one of read, create, update, delete'],
    ['--groups without --user', ['--repo', 'x', '--action', 'read', '--groups', 'ops'], '--groups needs --user (anonymous users have no groups)'],
    ['an unknown option', ['--repo', 'x', '--action', 'read', '--verbose'], "Unknown option '--verbose'"],
  ])('usage error: %s → exit 2, usage on stderr', async (_name, args, message) => {
    const result = await zotGate(['explain', '--config', paths.explain!, ...args]);
    expect(result).toEqual({ code: 2, stdout: '', stderr: usageError(message) });
  });
});

describe('apikey', () => {
  const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');
  const keys: string[] = [];
  let config: string;
  let store: string;
  const apikey = (...args: string[]) => zotGate(['apikey', ...args, '--config', config]);

  beforeAll(async () => {
    config = await writeJson('apikey', { ...BASE, dataDir: './keys', auth: { apikey: { maxLifetime: '30d' } } });
    store = join(work, 'keys', 'apikeys.json');
  });

  it('create prints the key alone; the store holds its SHA-256, mode 0600, never the key', async () => {
    const before = Date.now();
    const result = await apikey('create', '--user', 'ci', '--groups', 'artifact-workloads');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^zak_[0-9a-f]{32}\n$/);
    keys.push(result.stdout.trim());
    const listed = JSON.parse((await apikey('list', '--json')).stdout).apiKeys[0];
    // without --expires a key lives auth.apikey.maxLifetime
    expect(Date.parse(listed.expirationDate) - 30 * DAY).toBeGreaterThanOrEqual(before);
    expect(Date.parse(listed.expirationDate) - 30 * DAY).toBeLessThanOrEqual(Date.now());
    expect((await stat(store)).mode & 0o777).toBe(0o600);
    const text = await readFile(store, 'utf8');
    expect(text).toContain(sha256(keys[0]!));
    expect(text).not.toContain(keys[0]!.slice(4));
  });

  it('create --json prints zot\'s APIKeyDetails shape plus apiKey', async () => {
    const before = Date.now();
    const result = await apikey('create', '--user', 'ci', '--label', 'build', '--expires', '7d', '--scope', 'blumeops/**', '--json');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const body = JSON.parse(result.stdout);
    expect(Object.keys(body)).toEqual(['createdAt', 'expirationDate', 'isExpired', 'creatorUa', 'generatedBy', 'lastUsed', 'label', 'scopes', 'uuid', 'apiKey']);
    expect(body).toMatchObject({ isExpired: false, creatorUa: '', generatedBy: 'manual', lastUsed: ZERO_TIME, label: 'build', scopes: ['blumeops/**'] });
    expect(body.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(body.apiKey).toMatch(/^zak_[0-9a-f]{32}$/);
    expect(Date.parse(body.expirationDate) - 7 * DAY).toBeGreaterThanOrEqual(before);
    expect(Date.parse(body.expirationDate) - 7 * DAY).toBeLessThanOrEqual(Date.now());
    keys.push(body.apiKey);
    expect((await apikey('create', '--user', 'bob')).code).toBe(0);
  });

  it.each<[string, string[], number, string]>([
    ['--expires beyond maxLifetime', ['--expires', '31d'], 1, 'zot-gate: --expires 31d is longer than auth.apikey.maxLifetime (30d)\n'],
    ['--expires that is not a duration', ['--expires', '3w'], 2, usageError('--expires "3w" is not a duration such as 30d or 12h')],
    ['a --scope that is not a glob', ['--scope', 'a/['], 2, usageError('--scope "a/[" unclosed "["')],
  ])('create with %s', async (_name, args, code, stderr) => {
    // the list below shows that none of these stored a key
    expect(await apikey('create', '--user', 'ci', ...args)).toEqual({ code, stdout: '', stderr });
  });

  it('list prints a header and one line per key, never a key or its hash; list --json adds the owner and parent', async () => {
    const json = await apikey('list', '--json');
    expect(json).toMatchObject({ code: 0, stderr: '' });
    const listed = JSON.parse(json.stdout).apiKeys as Array<Record<string, unknown>>;
    expect(listed.map(({ createdAt, expirationDate, uuid, ...rest }) => rest)).toEqual([
      { isExpired: false, creatorUa: '', generatedBy: 'manual', lastUsed: ZERO_TIME, label: 'cli', scopes: [], owner: 'ci', parentId: null },
      { isExpired: false, creatorUa: '', generatedBy: 'manual', lastUsed: ZERO_TIME, label: 'build', scopes: ['blumeops/**'], owner: 'ci', parentId: null },
      { isExpired: false, creatorUa: '', generatedBy: 'manual', lastUsed: ZERO_TIME, label: 'cli', scopes: [], owner: 'bob', parentId: null },
    ]);
    const row = (k: Record<string, unknown>) => [k.uuid, k.owner, k.label, k.createdAt, k.expirationDate, 'never', (k.scopes as string[]).join(',') || '*', '-'].join('\t');
    const header = 'ID\tOWNER\tLABEL\tCREATED\tEXPIRES\tLAST USED\tSCOPES\tPARENT';
    const text = await apikey('list');
    expect(text).toEqual({ code: 0, stdout: `${[header, ...listed.map(row)].join('\n')}\n`, stderr: '' });
    expect(await apikey('list', '--user', 'bob')).toEqual({ code: 0, stdout: `${header}\n${row(listed[2]!)}\n`, stderr: '' });
    for (const key of keys) for (const secret of [key.slice(4), sha256(key)]) expect(text.stdout + json.stdout).not.toContain(secret);
  });

  it('revoke --id and revoke --user --all', async () => {
    const [first] = JSON.parse((await apikey('list', '--json', '--user', 'bob')).stdout).apiKeys;
    expect(await apikey('revoke', '--id', first.uuid)).toEqual({ code: 0, stdout: `revoked ${first.uuid}\n`, stderr: '' });
    expect(await apikey('revoke', '--id', first.uuid)).toEqual({ code: 1, stdout: '', stderr: `zot-gate: no API key with id ${first.uuid}\n` });
    expect(await apikey('revoke', '--user', 'ci', '--all')).toEqual({ code: 0, stdout: 'revoked 2 key(s) of ci\n', stderr: '' });
    expect(await apikey('revoke', '--user', 'ci')).toEqual({ code: 2, stdout: '', stderr: usageError('apikey revoke needs either --id UUID or --user U --all') });
    expect(JSON.parse((await apikey('list', '--json')).stdout)).toEqual({ apiKeys: [] });
  });

  it.each<[string, string[], number, string, string]>([
    ['apikey without a subcommand', ['apikey'], 2, '', usageError('apikey: unknown subcommand "" (create, list, revoke)')],
    ['an unknown apikey subcommand', ['apikey', 'rotate'], 2, '', usageError('apikey: unknown subcommand "rotate" (create, list, revoke)')],
    ['an unknown command', ['bogus'], 2, '', usageError('unknown command "bogus"')],
    ['no command at all', [], 2, '', usageError('a command is needed')],
    ['help, asked for', ['help'], 0, `${USAGE}\n`, ''],
  ])('%s', async (_name, args, code, stdout, stderr) => {
    expect(await zotGate(args)).toEqual({ code, stdout, stderr });
  });
});

describe('serve, as a separate process', () => {
  let registry: Registry | undefined;
  let gate: ManagedProcess | undefined;
  let port: number;
  let upstream: string;
  let url: string;
  let file: string;
  const MANIFEST = '/v2/cli/app/manifests/latest';
  const serveConfig = (access: object, auth: object = {}) => ({
    listen: { host: '127.0.0.1', port }, upstream: { url: upstream }, dataDir: './serve-data',
    auth: { failDelay: 0, ...auth }, accessControl: { repositories: { '**': access } },
  });
  const hup = async (message: string) => {
    const seen = logsOf(gate!).filter((line) => line.msg === message).length;
    process.kill(gate!.pid, 'SIGHUP');
    await waitUntil(gate!, message, async () => logsOf(gate!).filter((line) => line.msg === message).length > seen, 5_000);
    return logsOf(gate!).filter((line) => line.msg === message).at(-1)!;
  };

  beforeAll(async () => {
    registry = await startRegistry();
    upstream = registry.url;
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    file = await writeJson('serve', serveConfig({ anonymousPolicy: ['read'] }));
    gate = await startProcess(process.execPath, [join(root, 'dist/cli.js'), 'serve', '--config', file], { cwd: root });
    await waitForUrl(gate, `${url}/-/healthz`);
  });

  afterAll(async () => {
    await gate?.stop();
    await registry?.stop();
  });

  it('answers healthz and readyz, logs JSON lines on stderr, prints nothing on stdout', async () => {
    expect(await send(url, { path: '/-/healthz' })).toMatchObject({ status: 200, body: '{"status":"ok"}' });
    expect(await send(url, { path: '/-/readyz' })).toMatchObject({ status: 200, body: '{"status":"ready","upstream":"ok"}' });
    expect(logsOf(gate!).find((line) => line.msg === 'zot-gate listening'))
      .toMatchObject({ level: 'info', service: 'zot-gate', address: url, upstream, config: file });
    expect(gate!.stdout()).toBe('');
  });

  it('SIGHUP applies a changed accessControl to new requests', async () => {
    const before = await send(url, { path: MANIFEST });
    expect([before.status, ociError(before).code]).toEqual([404, 'MANIFEST_UNKNOWN']);
    await writeFile(file, JSON.stringify(serveConfig({ defaultPolicy: ['read'] })));
    const restart = 'listen, upstream, dataDir, log.level, auth.openid.providers, auth.trustedIssuers, auth.trustedProxies, audit.file';
    expect(await hup(`config reloaded; changes to ${restart} need a restart`)).toMatchObject({ level: 'info', config: file, notApplied: [] });
    const after = await send(url, { path: MANIFEST });
    expect([after.status, ociError(after).code, ociError(after).detail.reason]).toEqual([401, 'UNAUTHORIZED', 'action-not-granted']);
  });

  it('SIGHUP with an invalid file keeps the previous config and logs why', async () => {
    // anonymous read again, but with a bad duration: applying it would turn the 401 back into a 404
    await writeFile(file, JSON.stringify(serveConfig({ anonymousPolicy: ['read'] }, { apikey: { maxLifetime: 'forever' } })));
    expect(await hup('config reload refused; the previous config stays in force')).toMatchObject({
      level: 'error',
      problems: [{ subject: 'auth.apikey.maxLifetime', problem: '"forever" is not a duration such as 30s, 15m, 2h or 90d', rule: 'duration' }],
    });
    expect((await send(url, { path: MANIFEST })).status).toBe(401);
    expect(gate!.exitStatus()).toBeUndefined();
  });

  it('readyz answers 503 while the upstream is stopped; healthz stays 200', async () => {
    const upstream = registry!;
    await upstream.stop();
    registry = undefined;
    const ready = await send(url, { path: '/-/readyz' });
    expect([ready.status, ready.json()]).toEqual([503, { status: 'not-ready', upstream: `unreachable: connect ECONNREFUSED ${upstream.host}` }]);
    expect((await send(url, { path: '/-/healthz' })).status).toBe(200);
  });

  it('SIGTERM drains and exits 0 within a few seconds', async () => {
    const started = Date.now();
    process.kill(gate!.pid, 'SIGTERM');
    const status = await Promise.race([gate!.exited, new Promise((resolve) => setTimeout(resolve, 5_000, 'still running'))]);
    expect(status).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(logsOf(gate!).at(-1)).toMatchObject({ msg: 'stopping: draining in-flight requests', signal: 'SIGTERM' });
    expect(gate!.stdout()).toBe('');
  });

  it('an invalid config exits 1 before listening, printing every problem', async () => {
    const result = await zotGate(['serve', '--config', paths.bad!]);
    expect(result).toEqual({ code: 1, stdout: '', stderr: `zot-gate: ${paths.bad}: 3 problem(s)\n${PROBLEM_LINES.join('\n')}\n` });
  });
});
