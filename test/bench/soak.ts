/**
 * The soak: minutes of mixed small requests against the gate, several hey
 * processes at once — authenticated HEADs and GETs of manifests and a small
 * blob, anonymous reads, the /v2/ probe and misses (404) — the traffic a
 * registry front sees between layer downloads.
 */
import { run } from '../harness/process.js';
import type { Credentials } from '../harness/skopeo.js';
import { OCI_MANIFEST } from './measure.js';

export interface SoakPaths {
  /** `/v2/REPO/manifests/TAG` */
  readonly manifest: string;
  /** `/v2/REPO/blobs/DIGEST` of a small blob */
  readonly smallBlob: string;
  /** `/v2/REPO/manifests/TAG` that does not exist */
  readonly missing: string;
}

export interface SoakTotals {
  readonly requests: number;
  readonly statuses: Record<string, number>;
}

/** Runs the mixed load for `seconds` and returns how many requests got which status. */
export async function soak(base: string, paths: SoakPaths, creds: Credentials, seconds: number): Promise<SoakTotals> {
  const basic = `Authorization: Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
  const accept = `Accept: ${OCI_MANIFEST}`;
  const streams: string[][] = [
    ['-m', 'HEAD', '-c', '8', '-H', accept, '-H', basic, `${base}${paths.manifest}`],
    ['-m', 'GET', '-c', '4', '-H', accept, `${base}${paths.manifest}`],
    ['-m', 'GET', '-c', '4', '-H', basic, `${base}${paths.smallBlob}`],
    ['-m', 'GET', '-c', '2', '-H', basic, `${base}/v2/`],
    ['-m', 'HEAD', '-c', '2', '-H', accept, `${base}${paths.missing}`],
  ];
  const runs = await Promise.all(streams.map((args) => run('hey', ['-z', `${seconds}s`, ...args], { timeoutMs: (seconds + 120) * 1000 })));
  const statuses: Record<string, number> = {};
  let requests = 0;
  for (const result of runs) {
    if (result.code !== 0) throw new Error(`hey soak: exit ${result.code}: ${result.stderr}`);
    for (const match of result.stdout.matchAll(/\[(\d+)\]\s+(\d+) responses/g)) {
      statuses[match[1]!] = (statuses[match[1]!] ?? 0) + Number(match[2]);
      requests += Number(match[2]);
    }
  }
  return { requests, statuses };
}
