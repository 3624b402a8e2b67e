/**
 * `npm run demo`: the whole thing on a laptop. Starts a registry (CNCF
 * distribution, or the zot named by ZOT_GATE_DEMO_UPSTREAM), a development
 * IdP (oidc-provider) with two users, and the gate with a demo config, all on
 * 127.0.0.1 with their files in one temp dir; makes a CI key; prints what to
 * try. SIGINT or SIGTERM stops all of it by PID and removes the dir.
 *
 * The banner goes to stdout, progress and problems to stderr. Exit status: 0
 * after a signal, 1 when something could not start or died.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { banner, type BannerFacts } from './demo/banner.js';
import { logTail, type Daemon } from './demo/daemon.js';
import { createCiKey, startDemoGate } from './demo/gate.js';
import { startIdp } from './demo/idp.js';
import { writeDemoImage } from './demo/image.js';
import { portOrFree } from './demo/ports.js';
import { startDistribution, useRunningRegistry } from './demo/registry.js';
import { Teardown } from './demo/teardown.js';
import { GateError } from './errors.js';

/** The development IdP's server script, in the source checkout (oidc-provider is a dev dependency). */
const IDP_SERVER = fileURLToPath(new URL('../test/harness/idp-server.mjs', import.meta.url));

/** Where the demo listens: these ports when free (0 = any), else ports the kernel picks. */
interface DemoOptions {
  readonly gatePort: number;
  readonly registryPort: number;
  readonly idpPort: number;
  /** a registry the user runs (zot, no auth) instead of starting distribution */
  readonly upstream: string | null;
}

const say = (line: string) => process.stderr.write(`zot-gate demo: ${line}\n`);

function optionsFrom(env: NodeJS.ProcessEnv): DemoOptions {
  const port = (name: string, fallback: number): number => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    if (!/^\d{1,5}$/.test(text) || Number(text) > 65_535) throw new GateError('DEMO_USAGE', `${name}: ${JSON.stringify(text)} is not a port number`);
    return Number(text);
  };
  return {
    gatePort: port('ZOT_GATE_DEMO_PORT', 5050),
    registryPort: port('ZOT_GATE_DEMO_REGISTRY_PORT', 5051),
    idpPort: port('ZOT_GATE_DEMO_IDP_PORT', 5052),
    upstream: env['ZOT_GATE_DEMO_UPSTREAM'] || null,
  };
}

/** Starts everything, registering each piece with `teardown` as soon as it runs. */
async function start(env: NodeJS.ProcessEnv, teardown: Teardown, watch: (daemon: Daemon) => void): Promise<BannerFacts> {
  const options = optionsFrom(env);
  const workDir = await mkdtemp(join(tmpdir(), 'zot-gate-demo-'));
  await teardown.defer('the work dir', () => rm(workDir, { recursive: true, force: true, maxRetries: 3 }));
  say(`work dir ${workDir}`);
  const started = async (daemon: Daemon) => {
    await teardown.defer(`${daemon.name} (pid ${daemon.pid})`, () => daemon.stop());
    watch(daemon);
  };
  const registry =
    options.upstream === null
      ? await startDistribution(workDir, await portOrFree(options.registryPort), started)
      : await useRunningRegistry(options.upstream);
  const idp = await startIdp(workDir, await portOrFree(options.idpPort), IDP_SERVER, started);
  const imageDir = join(workDir, 'image');
  await writeDemoImage(imageDir);
  const gate = await startDemoGate({
    workDir,
    port: await portOrFree(options.gatePort),
    upstream: registry.url,
    issuer: idp.issuer,
    credentialsFile: idp.credentialsFile,
  });
  await teardown.defer('the gate', gate.stop);
  return {
    workDir,
    gate,
    idp: { issuer: idp.issuer, pid: idp.daemon.pid },
    registry: { url: registry.url, pid: registry.daemon?.pid ?? null },
    key: await createCiKey(gate.apiKeys),
    imageDir,
  };
}

/**
 * Runs the demo until a signal (exit 0), or until something fails to start
 * or dies (exit 1); then stops everything, including pieces that were still
 * starting.
 */
async function main(): Promise<number> {
  const teardown = new Teardown();
  let requestStop: (code: number) => void = () => {};
  const stopRequested = new Promise<number>((resolve) => (requestStop = resolve));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => requestStop(0));

  const watch = (daemon: Daemon) =>
    void daemon.exited.then(async (status) => {
      // Ctrl-C in a terminal reaches the children too: let this process's own handler win that race.
      await sleep(250);
      if (teardown.started) return;
      say(`${daemon.name} (pid ${daemon.pid}) exited (${status.signal ?? `code ${status.code}`}); the end of its log:\n${logTail(daemon.logFile)}`);
      requestStop(1);
    });
  const startup = start(process.env, teardown, watch).then(
    (facts) => {
      if (!teardown.started) process.stdout.write(banner(facts));
    },
    (error: unknown) => {
      if (teardown.started) return;
      say(error instanceof GateError ? error.message : `unexpected error: ${(error as Error).stack ?? String(error)}`);
      requestStop(1);
    },
  );

  const code = await stopRequested;
  say('stopping');
  await teardown.run();
  await startup;
  say('stopped');
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`unexpected error: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
