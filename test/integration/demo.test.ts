/**
 * `npm run demo` as a user runs it (issue 6 item 7): `node dist/demo.js` as a
 * child process, on ports chosen here. The printed lines are run as printed
 * (skopeo push, anonymous inspect, the refused overwrite), the demo users
 * sign in through the dev IdP, and a signal stops everything: exit 0, the
 * registry and IdP PIDs it printed are gone, and so is its work dir. Needs
 * `npm run build` first; `npm test` does it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOT_INSTALLED } from '../../src/demo/registry.js';
import { buildImage, type BuiltImage } from '../harness/images.js';
import { freePort } from '../harness/ports.js';
import { startProcess, waitUntil, type ManagedProcess } from '../harness/process.js';
import { startRegistry } from '../harness/registry.js';
import { pullToLayout, pushLayout, skopeo } from '../harness/skopeo.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { send } from '../support/http.js';
import { signIn } from '../support/sign-in.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const KEY = /^API key for ci \(groups artifact-workloads\): (zak_[0-9a-f]{32})$/m;

interface Ports {
  readonly gate: number;
  readonly registry: number;
  readonly idp: number;
}

/** What the banner says, read back from it. */
interface Printed {
  readonly workDir: string;
  readonly key: string;
  readonly registryPid: number;
  readonly idpPid: number;
}

async function freePorts(): Promise<Ports> {
  return { gate: await freePort(), registry: await freePort(), idp: await freePort() };
}

/** Every demo a test started; one that a failed test left running is stopped (SIGTERM, so it tears down) after the file. */
const demos: ManagedProcess[] = [];
afterAll(async () => {
  await Promise.all(demos.map((demo) => demo.stop(10_000)));
});

async function startDemo(ports: Ports, env: NodeJS.ProcessEnv = {}): Promise<ManagedProcess> {
  const demo = await startProcess(process.execPath, [join(root, 'dist/demo.js')], {
    cwd: root,
    env: {
      ...process.env,
      ZOT_GATE_DEMO_UPSTREAM: undefined,
      ZOT_GATE_DEMO_PORT: String(ports.gate),
      ZOT_GATE_DEMO_REGISTRY_PORT: String(ports.registry),
      ZOT_GATE_DEMO_IDP_PORT: String(ports.idp),
      ...env,
    },
  });
  demos.push(demo);
  return demo;
}

async function waitForBanner(proc: ManagedProcess): Promise<Printed> {
  await waitUntil(proc, 'the banner', async () => proc.stdout().includes('Ctrl-C stops'), 25_000);
  const out = proc.stdout();
  const match = (pattern: RegExp) => pattern.exec(out)?.[1] ?? 'not printed';
  return {
    workDir: match(/Work dir \(removed when the demo stops\): (\S+)$/m),
    key: match(KEY),
    registryPid: Number(match(/^ {2}registry .* pid (\d+)$/m)),
    idpPid: Number(match(/^ {2}IdP .* pid (\d+)$/m)),
  };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** PIDs of every process whose command line mentions `text` (Linux /proc). */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

/** Runs a printed `skopeo …` line through the isolated skopeo of the harness. */
function runPrinted(line: string) {
  const [command, ...args] = line.trim().split(' ');
  expect(command).toBe('skopeo');
  return skopeo(args);
}

/** The printed line that starts with `prefix`. */
function printedLine(proc: ManagedProcess, prefix: string): string {
  const line = proc.stdout().split('\n').find((candidate) => candidate.trimStart().startsWith(prefix));
  if (line === undefined) throw new Error(`no printed line starts with ${prefix}`);
  return line;
}

describe('npm run demo', () => {
  let ports: Ports;
  let demo: ManagedProcess;
  let printed: Printed;
  let gate: string;
  let host: string;
  let work: string;
  let image: BuiltImage;
  let firstDigest: string;

  beforeAll(async () => {
    ports = await freePorts();
    gate = `http://127.0.0.1:${ports.gate}`;
    host = `127.0.0.1:${ports.gate}`;
    demo = await startDemo(ports);
    work = await makeTempDir('demo-test');
    image = await buildImage(join(work, 'img'), { seed: 'demo', tag: '1' });
    printed = await waitForBanner(demo);
    const index = JSON.parse(await readFile(join(printed.workDir, 'image', 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    firstDigest = index.manifests[0]!.digest;
  }, 40_000);

  afterAll(async () => {
    if (work) await removeDir(work);
  });

  it('prints where everything runs, who can sign in, the key and what to try', () => {
    const { workDir, key } = printed;
    const push = (tag: string) =>
      `  skopeo copy --dest-tls-verify=false --dest-creds ci:${key} oci:${workDir}/image:${tag} docker://${host}/demo/app:v1`;
    expect(demo.stdout()).toBe(
      [
        `zot-gate demo: everything runs. Work dir (removed when the demo stops): ${workDir}`,
        '',
        `  gate      ${gate}   config ${workDir}/zot-gate.json, log ${workDir}/gate.log`,
        `  IdP       http://127.0.0.1:${ports.idp}   oidc-provider with its development login form, pid ${printed.idpPid}`,
        `  registry  http://127.0.0.1:${ports.registry}   distribution (docker-registry), pid ${printed.registryPid}`,
        '',
        `Sign in with a browser at ${gate}/-/account as`,
        '  alice  groups admins              any password',
        '  bob    groups artifact-workloads  any password',
        '',
        `API key for ci (groups artifact-workloads): ${key}`,
        '',
        'Push with it (artifact-workloads may create new tags):',
        push('v1'),
        '',
        'Read it back with no credentials (anyone may read):',
        `  skopeo inspect --tls-verify=false docker://${host}/demo/app:v1`,
        '',
        'Push another image to v1 (refused: v* tags are immutable, even for admins):',
        push('v1-rebuilt'),
        '',
        'Ctrl-C stops the gate, the IdP and the registry, and removes the work dir.',
        '',
      ].join('\n'),
    );
    expect(workDir.startsWith('/')).toBe(true);
    expect(processesMentioning(workDir).sort()).toEqual([printed.registryPid, printed.idpPid].sort());
  });

  it('the printed push line pushes the demo image with the CI key', async () => {
    const result = await runPrinted(printedLine(demo, 'skopeo copy --dest-tls-verify=false --dest-creds ci:'));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('the printed inspect line reads it back anonymously, and so does a pull', async () => {
    const inspected = await runPrinted(printedLine(demo, 'skopeo inspect'));
    expect(inspected.code).toBe(0);
    expect((JSON.parse(inspected.stdout) as { Digest: string }).Digest).toBe(firstDigest);
    const pulled = await pullToLayout(`${host}/demo/app:v1`, join(work, 'pulled'));
    expect(pulled.code).toBe(0);
    const index = JSON.parse(await readFile(join(work, 'pulled', 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    expect(index.manifests.map((m) => m.digest)).toEqual([firstDigest]);
  });

  it('the printed overwrite line is refused: v* tags are immutable', async () => {
    const result = await runPrinted(printedLine(demo, `skopeo copy --dest-tls-verify=false --dest-creds ci:${printed.key} oci:${printed.workDir}/image:v1-rebuilt`));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'denied: tag \\"v1\\" in repository \\"demo/app\\" is immutable (immutableTags[0]); it cannot be overwritten, push a new tag instead',
    );
  });

  it.each([
    { who: 'the printed CI key', user: 'ci', tag: '2', outcome: 'is accepted', code: 0, refusal: '' },
    { who: 'no credentials', user: null, tag: '3', outcome: 'is refused', code: 1, refusal: 'unauthorized: authentication required' },
    {
      who: 'the key under another user name',
      user: 'bob',
      tag: '4',
      outcome: 'is refused',
      code: 1,
      refusal: 'unable to retrieve auth token: invalid username/password',
    },
  ])('a push of another image with $who $outcome', async ({ user, tag, code, refusal }) => {
    const creds = user === null ? undefined : { username: user, password: printed.key };
    const result = await pushLayout(image.layoutDir, '1', `${host}/demo/other:${tag}`, creds);
    expect(result.code).toBe(code);
    if (code === 0) expect(result.stderr).toBe('');
    else expect(result.stderr).toContain(refusal);
  });

  it('/-/account sends a browser to the dev IdP with the gate as client', async () => {
    const account = await send(gate, { path: '/-/account' });
    expect(account.status).toBe(302);
    expect(account.headers.location).toBe('/zot/auth/login?provider=oidc&callback_ui=%2F-%2Faccount');
    const login = await send(gate, { path: account.headers.location! });
    expect(login.status).toBe(302);
    const authorize = new URL(login.headers.location!);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`http://127.0.0.1:${ports.idp}/auth`);
    expect(Object.fromEntries([...authorize.searchParams].filter(([name]) => !['state', 'nonce', 'code_challenge'].includes(name)))).toEqual({
      client_id: 'zot-gate',
      redirect_uri: `${gate}/zot/auth/callback/oidc`,
      scope: 'openid profile email groups',
      response_type: 'code',
      code_challenge_method: 'S256',
    });
  });

  it.each([
    { login: 'alice', groups: 'admins' },
    { login: 'bob', groups: 'artifact-workloads' },
  ])('$login signs in with any password and sees groups $groups', async ({ login, groups }) => {
    const page = await signIn(gate, login);
    expect(page.status).toBe(200);
    expect(page.body).toContain(`<dt>User</dt><dd><strong>${login}</strong></dd>`);
    expect(page.body).toContain(`<dt>Groups</dt><dd class="chips"><span class="chip">${groups}</span></dd>`);
  });

  it('SIGINT stops the gate, the IdP and the registry, removes the work dir and exits 0', async () => {
    process.kill(demo.pid, 'SIGINT');
    expect(await demo.exited).toEqual({ code: 0, signal: null });
    expect([isRunning(printed.registryPid), isRunning(printed.idpPid)]).toEqual([false, false]);
    expect(processesMentioning(printed.workDir)).toEqual([]);
    expect(existsSync(printed.workDir)).toBe(false);
    expect((await fetch(gate).catch((error: Error) => error)) instanceof Error).toBe(true);
    expect(demo.stderr()).toBe(`zot-gate demo: work dir ${printed.workDir}\nzot-gate demo: stopping\nzot-gate demo: stopped\n`);
  });
});

describe('stopping the demo', () => {
  it('SIGTERM after start-up: exit 0, nothing left', async () => {
    const demo = await startDemo(await freePorts());
    const printed = await waitForBanner(demo);
    process.kill(demo.pid, 'SIGTERM');
    expect(await demo.exited).toEqual({ code: 0, signal: null });
    expect([isRunning(printed.registryPid), isRunning(printed.idpPid)]).toEqual([false, false]);
    expect(existsSync(printed.workDir)).toBe(false);
  }, 40_000);

  it.each([0, 500])('SIGINT %i ms into start-up: exit 0, nothing left', async (delayMs) => {
    const demo = await startDemo(await freePorts());
    await waitUntil(demo, 'the work dir line', async () => demo.stderr().includes('work dir '));
    const workDir = /work dir (\S+)/.exec(demo.stderr())![1]!;
    await sleep(delayMs);
    process.kill(demo.pid, 'SIGINT');
    expect(await demo.exited).toEqual({ code: 0, signal: null });
    expect(processesMentioning(workDir)).toEqual([]);
    expect(existsSync(workDir)).toBe(false);
  }, 40_000);

  it('the registry dying stops the rest and exits 1, saying which', async () => {
    const demo = await startDemo(await freePorts());
    const printed = await waitForBanner(demo);
    process.kill(printed.registryPid, 'SIGKILL');
    expect(await demo.exited).toEqual({ code: 1, signal: null });
    expect(isRunning(printed.idpPid)).toBe(false);
    expect(existsSync(printed.workDir)).toBe(false);
    expect(demo.stderr()).toBe(
      [
        `zot-gate demo: work dir ${printed.workDir}`,
        `zot-gate demo: the registry (pid ${printed.registryPid}) exited (SIGKILL); the end of its log:`,
        '(empty)',
        'zot-gate demo: stopping',
        'zot-gate demo: stopped',
        '',
      ].join('\n'),
    );
  }, 40_000);
});

describe('in front of a registry the user runs (ZOT_GATE_DEMO_UPSTREAM)', () => {
  it('starts no registry, pushes through to that one, and leaves it running', async () => {
    const registry = await startRegistry();
    try {
      const ports = await freePorts();
      const demo = await startDemo(ports, { ZOT_GATE_DEMO_UPSTREAM: `${registry.url}/` });
      const printed = await waitForBanner(demo);
      expect(printedLine(demo, 'registry')).toBe(`  registry  ${registry.url}   yours (ZOT_GATE_DEMO_UPSTREAM)`);
      const pushed = await runPrinted(printedLine(demo, 'skopeo copy --dest-tls-verify=false --dest-creds ci:'));
      expect(pushed.code).toBe(0);
      const tags = await fetch(`${registry.url}/v2/demo/app/tags/list`).then((response) => response.json());
      expect(tags).toEqual({ name: 'demo/app', tags: ['v1'] });
      process.kill(demo.pid, 'SIGINT');
      expect(await demo.exited).toEqual({ code: 0, signal: null });
      expect(processesMentioning(printed.workDir)).toEqual([]);
      expect((await fetch(`${registry.url}/v2/`)).status).toBe(200);
    } finally {
      await registry.stop();
    }
  }, 40_000);
});

describe('when the demo cannot start', () => {
  it('without docker-registry it says how to install it or use a zot, and exits 1', async () => {
    const demo = await startDemo(await freePorts(), { PATH: '/nonexistent' });
    expect(await demo.exited).toEqual({ code: 1, signal: null });
    const workDir = /work dir (\S+)/.exec(demo.stderr())?.[1] ?? 'not printed';
    expect(demo.stderr()).toBe(`zot-gate demo: work dir ${workDir}\nzot-gate demo: ${NOT_INSTALLED}\nzot-gate demo: stopping\nzot-gate demo: stopped\n`);
    expect(demo.stdout()).toBe('');
    expect(existsSync(workDir)).toBe(false);
  });

  it.each([
    { name: 'ZOT_GATE_DEMO_PORT', value: 'http', problem: 'ZOT_GATE_DEMO_PORT: "http" is not a port number' },
    { name: 'ZOT_GATE_DEMO_IDP_PORT', value: '70000', problem: 'ZOT_GATE_DEMO_IDP_PORT: "70000" is not a port number' },
  ])('$name=$value: exit 1 before starting anything', async ({ name, value, problem }) => {
    const demo = await startDemo(await freePorts(), { [name]: value });
    expect(await demo.exited).toEqual({ code: 1, signal: null });
    expect(demo.stderr()).toBe(`zot-gate demo: ${problem}\nzot-gate demo: stopping\nzot-gate demo: stopped\n`);
  });

  it.each([
    { upstream: 'http://127.0.0.1:PORT', problem: 'GET http://127.0.0.1:PORT/v2/ should answer 200 (a registry with no auth), got: fetch failed' },
    { upstream: '127.0.0.1:PORT', problem: '"127.0.0.1:PORT" is not an http(s) URL' },
  ])('ZOT_GATE_DEMO_UPSTREAM=$upstream (nothing listens there): exit 1 and says why', async ({ upstream, problem }) => {
    const nobody = String(await freePort());
    const demo = await startDemo(await freePorts(), { ZOT_GATE_DEMO_UPSTREAM: upstream.replace('PORT', nobody) });
    expect(await demo.exited).toEqual({ code: 1, signal: null });
    const workDir = /work dir (\S+)/.exec(demo.stderr())?.[1] ?? 'not printed';
    expect(demo.stderr()).toBe(
      [
        `zot-gate demo: work dir ${workDir}`,
        `zot-gate demo: ZOT_GATE_DEMO_UPSTREAM: ${problem.replaceAll('PORT', nobody)}`,
        'zot-gate demo: stopping',
        'zot-gate demo: stopped',
        '',
      ].join('\n'),
    );
    expect(existsSync(workDir)).toBe(false);
  });
});
