/**
 * `npm run bench`: the registry, the gate (its own process), nginx and Caddy
 * over the same registry; then, in one run with the targets alternating in
 * every round, the figures of issue 7. Prints the tables, writes JSON.
 *
 *   --reps N            rounds per figure (default 3; medians are reported)
 *   --size-mib N        the large blob / layer (default 1024)
 *   --soak-minutes N    mixed small requests before the second GET (default 5; 0 skips)
 *   --head-requests N   HEADs per burst (default 10000), --concurrency N (default 16)
 *   --json PATH         where the results go (default .tmp/bench-results.json)
 *   --peers LIST        comma list of nginx,nginx-256k,caddy (default all)
 *   --skip-push         no skopeo push/pull figures
 *   --cpu-prof DIR      run the gate with --cpu-prof, profiles written to DIR on exit
 */
import { cpus } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildImage } from '../harness/images.js';
import { startRegistry } from '../harness/registry.js';
import type { Registry } from '../harness/registry.js';
import type { Credentials } from '../harness/skopeo.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { memoryOf, resetPeak, startGateProcess } from './gate-process.js';
import type { GateProcess } from './gate-process.js';
import { getThroughput, headRate, pullSeconds, pushSeconds } from './measure.js';
import { startCaddy, startNginx } from './peers.js';
import type { Target } from './peers.js';
import { figuresTable, median, targetsTable } from './report.js';
import type { HeadSample, Results, Soak } from './report.js';
import { soak } from './soak.js';
import { ensureTool, TOOLS } from './tools.js';

const MIB = 1024 * 1024;
const SMALL_MIB = 128;

const { values: args } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    'size-mib': { type: 'string', default: '1024' },
    'soak-minutes': { type: 'string', default: '5' },
    'head-requests': { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '16' },
    json: { type: 'string', default: '.tmp/bench-results.json' },
    peers: { type: 'string', default: 'nginx,nginx-256k,caddy' },
    'skip-push': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
  },
});
const reps = positive('reps');
const sizeMib = positive('size-mib');
const soakMinutes = Number(args['soak-minutes']);
const headRequests = positive('head-requests');
const concurrency = positive('concurrency');
const wantedPeers = new Set(args.peers.split(',').filter((p) => p !== ''));

function positive(name: 'reps' | 'size-mib' | 'head-requests' | 'concurrency'): number {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

const stops: Array<() => Promise<void>> = [];

async function main(): Promise<void> {
  for (const tool of [TOOLS.registry, TOOLS.skopeo, TOOLS.curl, TOOLS.hey]) {
    const found = await ensureTool(tool);
    if ('missing' in found) throw new Error(`cannot run the bench: ${found.missing}`);
  }
  const work = await makeTempDir('bench');
  stops.push(() => removeDir(work));
  log(`work dir ${work}`);

  log(`building a ${sizeMib} MiB single-layer image and a ${SMALL_MIB} MiB one`);
  const big = await buildImage(join(work, 'big'), { seed: `bench-${sizeMib}`, layerBytes: sizeMib * MIB - 512 });
  const small = await buildImage(join(work, 'small'), { seed: `bench-small`, layerBytes: SMALL_MIB * MIB - 512 });

  const registry = await startRegistry();
  stops.push(() => registry.stop());
  log(`registry ${registry.url}; pushing the images directly`);
  await pushSeconds(big.layoutDir, 'latest', `${registry.host}/bench/big:latest`);
  await pushSeconds(small.layoutDir, 'latest', `${registry.host}/bench/small:latest`);

  const nodeArgs = args['cpu-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', resolve(args['cpu-prof'])];
  const gate = await startGateProcess(await subdir(work, 'gate'), registry.url, { nodeArgs });
  stops.push(() => gate.proc!.stop(30_000));
  const creds: Credentials = { username: gate.username, password: gate.apiKey };
  const { targets, skipped } = await startPeers(work, registry, gate);
  const names = targets.map((t) => t.name);
  log(`targets: ${names.join(', ')}${Object.keys(skipped).length > 0 ? `; skipped: ${JSON.stringify(skipped)}` : ''}`);

  const bigBlob = (t: Target): string => `http://${t.host}/v2/bench/big/blobs/${big.layerDigest}`;
  const credsFor = (t: Target): Credentials | undefined => (t.name === 'gate' ? creds : undefined);
  const results: Results = {
    startedAt: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { cpus: cpus().length, node: process.version },
    options: { reps, sizeMib, soakMinutes, headRequests, concurrency },
    targets: names,
    skipped,
    blobBytes: big.layerSize,
    get: {},
    push: {},
    pull: {},
    headKey: {},
    headAnon: {},
    gateRss: { idle: (await memoryOf(gate.pid)).current, smallGet: [], smallBytes: small.layerSize, get: [], push: [], pull: [] },
  };
  const add = <T>(into: Record<string, T[]>, name: string, value: T): void => void (into[name] ??= []).push(value);
  /** Runs `measure` with the gate's peak RSS reset before and read after, when the target is the gate. */
  const watched = async <T>(t: Target, into: number[], measure: () => Promise<T>): Promise<T> => {
    if (t !== gate) return measure();
    await resetPeak(gate.pid);
    const value = await measure();
    into.push((await memoryOf(gate.pid)).peak);
    return value;
  };

  log('warm-up: one GET of each blob per target (page cache, connection pools)');
  for (const t of targets) {
    await getThroughput(bigBlob(t), big.layerSize, credsFor(t));
    await watched(t, results.gateRss.smallGet, () => getThroughput(`http://${t.host}/v2/bench/small/blobs/${small.layerDigest}`, small.layerSize, credsFor(t)));
  }

  for (let rep = 1; rep <= reps; rep++) {
    for (const t of targets) {
      const bps = await watched(t, results.gateRss.get, () => getThroughput(bigBlob(t), big.layerSize, credsFor(t)));
      add(results.get, t.name, bps);
      log(`GET round ${rep} ${t.name}: ${(bps / MIB).toFixed(0)} MiB/s`);
    }
  }

  for (let rep = 1; rep <= reps; rep++) {
    for (const t of targets) {
      const url = `http://${t.host}/v2/bench/big/manifests/latest`;
      const keyed: HeadSample = await headRate(url, headRequests, concurrency, creds);
      const anon: HeadSample = await headRate(url, headRequests, concurrency);
      add(results.headKey, t.name, keyed);
      add(results.headAnon, t.name, anon);
      log(`HEAD round ${rep} ${t.name}: key ${keyed.perSecond.toFixed(0)}/s, anonymous ${anon.perSecond.toFixed(0)}/s`);
    }
  }

  if (!args['skip-push']) {
    for (let rep = 1; rep <= reps; rep++) {
      for (const t of targets) {
        // A fresh repository each time: the registry then answers the blob HEAD with 404 and the whole layer moves.
        const pushed = await watched(t, results.gateRss.push, () => pushSeconds(big.layoutDir, 'latest', `${t.host}/push-${t.name}-${rep}/big:latest`, credsFor(t)));
        add(results.push, t.name, pushed);
        const pulled = await watched(t, results.gateRss.pull, () => pullSeconds(`${t.host}/bench/big:latest`, join(work, `pull-${t.name}-${rep}`), credsFor(t)));
        add(results.pull, t.name, pulled);
        log(`push/pull round ${rep} ${t.name}: ${pushed.toFixed(2)} s / ${pulled.toFixed(2)} s`);
      }
    }
  }

  const direct = targets[0]!;
  if (soakMinutes > 0) {
    const before = await alternateGets(reps, gate, direct, bigBlob, big.layerSize, creds);
    log(`soak: ${soakMinutes} min of mixed small requests against the gate`);
    const totals = await soak(
      `http://${gate.host}`,
      { manifest: '/v2/bench/small/manifests/latest', smallBlob: `/v2/bench/small/blobs/${small.configDigest}`, missing: '/v2/bench/small/manifests/absent' },
      creds,
      Math.round(soakMinutes * 60),
    );
    log(`soak done: ${totals.requests} requests, statuses ${JSON.stringify(totals.statuses)}`);
    const after = await alternateGets(reps, gate, direct, bigBlob, big.layerSize, creds);
    const soaked: Soak = {
      minutes: soakMinutes,
      ...totals,
      gateBefore: before.gate,
      gateAfter: after.gate,
      directBefore: before.direct,
      directAfter: after.direct,
      gateRssAfter: (await memoryOf(gate.pid)).current,
    };
    Object.assign(results, { soak: soaked });
  }

  const json = resolve(args.json);
  await mkdir(dirname(json), { recursive: true });
  await writeFile(json, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\n${figuresTable(results)}\n\n${targetsTable(results)}\n\nresults: ${json}\n`);
}

async function alternateGets(reps: number, gate: GateProcess, direct: Target, url: (t: Target) => string, bytes: number, creds: Credentials): Promise<{ gate: number[]; direct: number[] }> {
  const out = { gate: [] as number[], direct: [] as number[] };
  for (let rep = 1; rep <= reps; rep++) {
    out.direct.push(await getThroughput(url(direct), bytes));
    out.gate.push(await getThroughput(url(gate), bytes, creds));
  }
  log(`GET gate ${(median(out.gate) / MIB).toFixed(0)} MiB/s, direct ${(median(out.direct) / MIB).toFixed(0)} MiB/s`);
  return out;
}

async function startPeers(work: string, registry: Registry, gate: GateProcess): Promise<{ targets: Target[]; skipped: Record<string, string> }> {
  const targets: Target[] = [{ name: 'direct', host: registry.host }, gate];
  const skipped: Record<string, string> = {};
  const start = async (name: string, tool: (typeof TOOLS)['nginx' | 'caddy'], launch: (path: string) => Promise<Target>): Promise<void> => {
    if (!wantedPeers.has(name)) return;
    const found = await ensureTool(tool);
    if ('missing' in found) {
      skipped[name] = found.missing;
      log(`skipping ${name}: ${found.missing}`);
      return;
    }
    try {
      const target = await launch(found.path);
      stops.push(() => target.proc!.stop());
      targets.push(target);
    } catch (error) {
      skipped[name] = `did not start: ${(error as Error).message.split('\n')[0]}`;
      log(`skipping ${name}: ${skipped[name]}`);
    }
  };
  await start('nginx', TOOLS.nginx, (path) => startNginx(path, work, registry.host, 'nginx'));
  await start('nginx-256k', TOOLS.nginx, (path) => startNginx(path, work, registry.host, 'nginx-256k', { buffers: '256k' }));
  await start('caddy', TOOLS.caddy, (path) => startCaddy(path, work, registry.host));
  return { targets, skipped };
}

async function subdir(parent: string, name: string): Promise<string> {
  const dir = join(parent, name);
  await mkdir(dir);
  return dir;
}

async function stopAll(): Promise<void> {
  // splice: the signal handler and the normal path may both get here
  for (const stop of stops.splice(0).reverse()) await stop().catch((error: unknown) => log(`cleanup: ${(error as Error).message}`));
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping children`);
    void stopAll().finally(() => process.exit(130));
  });
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
