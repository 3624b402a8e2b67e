/**
 * The deployment files (issue 6 items 3–5), checked as far as this machine
 * can: the LaunchAgent read by a real plist parser (python3's plistlib), the
 * Caddyfile by Caddy itself where it is installed, zot's config as JSON, and
 * the Dockerfile's instructions read statically — there is no Docker engine
 * here, so the image is not built — with its HEALTHCHECK and CMD run for real
 * against the built gate. Needs `npm run build` first; `npm test` does it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../harness/ports.js';
import { run, startProcess, waitForUrl, type ManagedProcess } from '../harness/process.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const text = (path: string) => readFile(join(root, path), 'utf8');
const installed = (cmd: string, arg: string) => spawnSync(cmd, [arg], { stdio: 'ignore' }).status === 0;
const python3 = installed('python3', '--version');
const caddy = installed('caddy', 'version');

describe('launchd/org.zot-gate.plist', () => {
  const EXPECTED: Record<string, unknown> = {
    Label: 'org.zot-gate',
    ProgramArguments: ['/usr/local/bin/node', '--max-semi-space-size=4', '/usr/local/lib/zot-gate/dist/cli.js', 'serve'],
    EnvironmentVariables: { ZOT_GATE_CONFIG: '/usr/local/etc/zot-gate/zot-gate.json' },
    WorkingDirectory: '/usr/local/lib/zot-gate',
    RunAtLoad: true,
    KeepAlive: true,
    ThrottleInterval: 10,
    // longer than serve's 30 s drain, so launchd's SIGKILL never cuts it short
    ExitTimeOut: 35,
    SoftResourceLimits: { NumberOfFiles: 8192 },
    StandardErrorPath: '/usr/local/var/log/zot-gate/zot-gate.log',
    StandardOutPath: '/usr/local/var/log/zot-gate/zot-gate.out.log',
  };
  let plist: Record<string, unknown> = {};

  beforeAll(async () => {
    if (!python3) return;
    // FMT_XML: the XML format only, as launchd reads it; a malformed file makes plistlib exit non-zero.
    const script = 'import json, plistlib, sys; json.dump(plistlib.load(open(sys.argv[1], "rb"), fmt=plistlib.FMT_XML), sys.stdout)';
    const result = await run('python3', ['-c', script, join(root, 'launchd/org.zot-gate.plist')]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    plist = JSON.parse(result.stdout) as Record<string, unknown>;
  });

  // Skip reason: needs python3, whose plistlib is the plist parser; .ci/run installs it, so CI runs this.
  it.skipIf(!python3)('parses as an XML plist holding exactly the expected keys (skipped where python3 is not installed)', () => {
    expect(Object.keys(plist).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  // Skip reason: needs python3, whose plistlib is the plist parser; .ci/run installs it, so CI runs this.
  it.skipIf(!python3).each(Object.entries(EXPECTED))('%s has the expected value and type (skipped where python3 is not installed)', (key, value) => {
    expect(plist[key]).toEqual(value);
  });

  // Skip reason: needs python3, whose plistlib is the plist parser; .ci/run installs it, so CI runs this.
  it.skipIf(!python3)('runs dist/cli.js inside its WorkingDirectory (skipped where python3 is not installed)', () => {
    const [, , cli] = plist.ProgramArguments as string[];
    expect(cli).toBe(join(plist.WorkingDirectory as string, 'dist/cli.js'));
  });
});

/** The Caddyfile's lines without comments, blank lines or indentation. */
async function caddyLines(): Promise<string[]> {
  return (await text('config/Caddyfile'))
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line !== '');
}

describe('config/Caddyfile', () => {
  it.each([
    ['the site', 'registry.example.org {'],
    ['the proxy to the gate', 'reverse_proxy 127.0.0.1:5050 {'],
    ['streaming', 'flush_interval -1'],
    ['keep-alive below the gate’s 72 s', 'keepalive 60s'],
    ["a request id of Caddy's making, never the client's", 'header_up X-Request-Id {http.request.uuid}'],
  ])('has %s: %s', async (_what, line) => {
    expect(await caddyLines()).toContain(line);
  });

  // Each of these would cap or buffer a multi-GiB blob upload.
  it.each(['request_body', 'max_size', 'read_body', 'write', 'request_buffers', 'response_buffers', 'buffer_requests', 'encode'])(
    'has no %s directive',
    async (directive) => {
      expect((await caddyLines()).map((line) => line.split(/\s+/)[0])).not.toContain(directive);
    },
  );

  it('proxies to where the example gate config listens', async () => {
    const gate = JSON.parse(await text('config/zot-gate.example.json')) as { listen: { host: string; port: number } };
    expect(await caddyLines()).toContain(`reverse_proxy ${gate.listen.host}:${gate.listen.port} {`);
  });

  // Skipped only where caddy is missing (it is optional for the gate); .ci/run installs it.
  it.skipIf(!caddy)('caddy validate accepts it with no warning (skipped where caddy is not installed)', async () => {
    const home = await makeTempDir('caddy');
    try {
      // Caddy provisions its TLS storage while validating: keep it out of the real home.
      const env = { ...process.env, HOME: home, XDG_DATA_HOME: join(home, 'data'), XDG_CONFIG_HOME: join(home, 'config') };
      const result = await run('caddy', ['validate', '--config', join(root, 'config/Caddyfile'), '--adapter', 'caddyfile'], { env });
      const levels = result.stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => (JSON.parse(line) as { level: string }).level);
      expect({ code: result.code, stdout: result.stdout, warnings: levels.filter((level) => level !== 'info' && level !== 'debug') })
        .toEqual({ code: 0, stdout: 'Valid configuration\n', warnings: [] });
    } finally {
      await removeDir(home);
    }
  });
});

describe('config/zot.config.example.json', () => {
  let zot: Record<string, unknown>;
  beforeAll(async () => {
    zot = JSON.parse(await text('config/zot.config.example.json')) as Record<string, unknown>;
  });
  const at = (path: string) => path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], zot);

  it.each<[string, unknown]>([
    ['http.address', '127.0.0.1'],
    ['http.port', '5051'],
    // authentication and authorisation moved to the gate
    ['http.auth', undefined],
    ['http.accessControl', undefined],
    ['accessControl', undefined],
    ['http.tls', undefined],
    // zot's default is true; a gate cannot authorise the cross-repository links dedupe makes
    ['storage.dedupe', false],
    ['extensions.metrics.enable', true],
    ['extensions.metrics.prometheus.path', '/metrics'],
    // zot refuses to start with the UI on and search off
    ['extensions.ui.enable', true],
    ['extensions.search.enable', true],
  ])('%s is %j', (path, value) => {
    expect(at(path)).toEqual(value);
  });

  it('is where the example gate config sends requests', async () => {
    const gate = JSON.parse(await text('config/zot-gate.example.json')) as { upstream: { url: string } };
    expect(gate.upstream.url).toBe(`http://${at('http.address') as string}:${at('http.port') as string}`);
  });
});

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  /** 0 for the first FROM's stage, 1 for the next… */
  readonly stage: number;
}

/** Dockerfile instructions: continuation lines joined, comments and blank lines dropped (Dockerfile reference, "Format"). */
function instructions(dockerfile: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let stage = -1;
  for (const raw of dockerfile.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    pending += pending === '' ? line : ` ${line}`;
    if (pending.endsWith('\\')) {
      pending = pending.slice(0, -1).trimEnd();
      continue;
    }
    const [keyword = '', ...rest] = pending.split(/\s+/);
    if (keyword.toUpperCase() === 'FROM') stage += 1;
    out.push({ keyword: keyword.toUpperCase(), args: rest.join(' '), stage });
    pending = '';
  }
  return out;
}

/** A `.dockerignore` match: Go filepath.Match globs plus `**`, a directory excluding its contents, `!` re-including. */
function dockerIgnored(path: string, patterns: readonly string[]): boolean {
  const regexp = (glob: string) =>
    new RegExp(`^${glob.replace(/^\//, '').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\/|\*\*|\*|\?/g, (m) =>
      m === '**/' ? '(?:.*/)?' : m === '**' ? '.*' : m === '*' ? '[^/]*' : '[^/]')}$`);
  const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const re = regexp(negated ? pattern.slice(1) : pattern);
    if (prefixes.some((prefix) => re.test(prefix))) ignored = !negated;
  }
  return ignored;
}

describe('Dockerfile', () => {
  let all: Instruction[];
  let runtime: Instruction[];
  let env: Record<string, string>;
  let ignore: string[];

  beforeAll(async () => {
    all = instructions(await text('Dockerfile'));
    const last = Math.max(...all.map((i) => i.stage));
    runtime = all.filter((i) => i.stage === last);
    env = Object.fromEntries(runtime.filter((i) => i.keyword === 'ENV').flatMap((i) => i.args.split(/\s+/)).map((pair) => {
      const eq = pair.indexOf('=');
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }));
    ignore = (await text('.dockerignore')).split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  });

  const args = (keyword: string) => runtime.filter((i) => i.keyword === keyword).map((i) => i.args);

  it('is multi-stage: a build stage, and a runtime stage that takes only dist/ from it', () => {
    expect(all.filter((i) => i.keyword === 'FROM').map((i) => i.args))
      .toEqual(['node:${NODE_VERSION}-bookworm-slim AS build', 'node:${NODE_VERSION}-bookworm-slim']);
    expect(args('COPY').filter((a) => a.startsWith('--from='))).toEqual(['--from=build /app/dist ./dist']);
  });

  it.each<[string, () => unknown, unknown]>([
    ['builds with npm ci and npm run build', () => all.filter((i) => i.stage === 0 && i.keyword === 'RUN').map((i) => i.args),
      ['npm ci --no-audit --no-fund', 'npm run build']],
    ['installs production dependencies only', () => args('RUN').filter((a) => a.startsWith('npm ')),
      ['npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force']],
    ['runs as the non-root user node', () => args('USER'), ['node']],
    ['exposes 5050', () => args('EXPOSE'), ['5050']],
    ['keeps data in a volume', () => args('VOLUME'), ['["/var/lib/zot-gate"]']],
    ['reads its config from /etc/zot-gate', () => env.ZOT_GATE_CONFIG, '/etc/zot-gate/zot-gate.json'],
    ['probes /-/healthz on the exposed port', () => env.ZOT_GATE_HEALTHCHECK_URL, 'http://127.0.0.1:5050/-/healthz'],
    ['runs serve', () => args('CMD').map((a) => JSON.parse(a) as unknown), [['node', '--max-semi-space-size=4', 'dist/cli.js', 'serve']]],
  ])('%s', (_name, actual, expected) => {
    expect(actual()).toEqual(expected);
  });

  it('has a HEALTHCHECK in exec form, with timings', () => {
    const [healthcheck = ''] = args('HEALTHCHECK');
    const match = /^((?:--\S+\s+)*)CMD\s+(\[.*\])$/.exec(healthcheck);
    const options = Object.fromEntries((match?.[1] ?? '').trim().split(/\s+/).map((o) => o.slice(2).split('=')));
    // exec form must be valid JSON: Docker silently falls back to a shell command otherwise
    const argv = JSON.parse(match?.[2] ?? 'null') as string[];
    expect({ options, program: argv.slice(0, 2) }).toEqual({
      options: { interval: '30s', timeout: '5s', 'start-period': '15s', retries: '3' },
      program: ['node', '-e'],
    });
  });

  it.each<[string, boolean]>([
    ['node_modules/fastify/package.json', true],
    ['dist/cli.js', true],
    ['data/apikeys.json', true],
    ['.git/HEAD', true],
    ['config/zot-gate.json', true],
    ['config/oidc-credentials.json', true],
    ['test/integration/cli.test.ts', true],
    ['src/cli.ts', false],
    ['config/zot-gate.example.json', false],
  ])('.dockerignore: %s ignored is %s', (path, expected) => {
    expect(dockerIgnored(path, ignore)).toBe(expected);
  });

  it('copies only files that exist and that .dockerignore lets into the build context', () => {
    const sources = all
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources).toEqual(['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'package.json', 'package-lock.json', 'config/zot-gate.example.json']);
    expect(sources.filter((source) => !existsSync(join(root, source)) || dockerIgnored(source, ignore))).toEqual([]);
  });

  it('needs no devDependency at run time: every package dist/cli.js can load is a production dependency', async () => {
    const pkg = JSON.parse(await text('package.json')) as { dependencies: Record<string, string> };
    const packages = await packagesLoadedFrom(join(root, 'dist/cli.js'));
    expect([...packages].filter((name) => !(name in pkg.dependencies))).toEqual([]);
    // the walk reached the lazily imported serve command and what it needs
    expect(['fastify', 'undici', 'jose'].filter((name) => !packages.has(name))).toEqual([]);
  });
});

/**
 * The packages a program can load: its import graph walked from `entry`
 * through relative imports, static and dynamic, as tsc writes them (one
 * import or re-export per line; dynamic ones as `import('…')`).
 */
async function packagesLoadedFrom(entry: string): Promise<Set<string>> {
  const packages = new Set<string>();
  const seen = new Set<string>([entry]);
  const queue = [entry];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    const js = await readFile(file, 'utf8');
    const specifiers = [
      ...js.matchAll(/^(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"];$/gm),
      ...js.matchAll(/^import\s*['"]([^'"]+)['"];$/gm),
      ...js.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
    ].map(([, specifier = '']) => specifier);
    for (const specifier of specifiers) {
      if (specifier.startsWith('node:')) continue;
      if (specifier.startsWith('.')) {
        const next = resolve(dirname(file), specifier);
        if (!seen.has(next)) {
          seen.add(next);
          queue.push(next);
        }
        continue;
      }
      packages.add(specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/'));
    }
  }
  return packages;
}

describe('the Dockerfile’s HEALTHCHECK and CMD, run against the built gate', () => {
  let work: string;
  let gate: ManagedProcess | undefined;
  let failing: Server | undefined;
  let probe: string[];
  const urls: Record<string, string> = {};

  beforeAll(async () => {
    const dockerfile = instructions(await text('Dockerfile'));
    const last = (keyword: string) => dockerfile.filter((i) => i.keyword === keyword).at(-1)?.args ?? '';
    probe = JSON.parse(/CMD\s+(\[.*\])$/.exec(last('HEALTHCHECK'))?.[1] ?? 'null') as string[];
    const [cmd, ...cmdArgs] = JSON.parse(last('CMD') || 'null') as string[];
    expect(cmd).toBe('node');

    work = await makeTempDir('deploy');
    const [port, closed] = [await freePort(), await freePort()];
    const config = join(work, 'zot-gate.json');
    // the upstream is a closed port: /-/healthz says the process is alive, nothing about zot
    await writeFile(config, JSON.stringify({
      listen: { host: '127.0.0.1', port }, upstream: { url: `http://127.0.0.1:${closed}` }, dataDir: './data',
      accessControl: { repositories: {} },
    }));
    // the image's CMD from the image's WORKDIR (the checkout), configured the image's way
    gate = await startProcess(process.execPath, cmdArgs, { cwd: root, env: { ...process.env, ZOT_GATE_CONFIG: config } });
    await waitForUrl(gate, `http://127.0.0.1:${port}/-/healthz`);

    failing = createServer((_req, res) => res.writeHead(503).end('{"status":"down"}'));
    await new Promise<void>((done) => failing!.listen(0, '127.0.0.1', done));
    urls.gate = `http://127.0.0.1:${port}/-/healthz`;
    urls.closed = `http://127.0.0.1:${closed}/-/healthz`;
    urls.failing = `http://127.0.0.1:${(failing.address() as AddressInfo).port}/-/healthz`;
  });

  afterAll(async () => {
    await gate?.stop();
    await new Promise((done) => (failing ? failing.close(done) : done(undefined)));
    if (work !== undefined) await removeDir(work);
  });

  it.each([
    ['the running gate', 0, 'gate'],
    ['a closed port', 1, 'closed'],
    ['a server answering 503', 1, 'failing'],
  ])('against %s exits %i', async (_name, code, target) => {
    const [node, ...rest] = probe;
    expect(node).toBe('node');
    const result = await run(process.execPath, rest, { env: { ...process.env, ZOT_GATE_HEALTHCHECK_URL: urls[target] }, timeoutMs: 10_000 });
    expect(result).toEqual({ code, stdout: '', stderr: '' });
  });

  it('the gate started by CMD wrote its keys into dataDir, relative to the config file', () => {
    expect(['session.key', 'token-key.json'].filter((file) => existsSync(join(work, 'data', file)))).toEqual(['session.key', 'token-key.json']);
  });
});
