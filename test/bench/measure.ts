/** One measurement each: a blob GET, a burst of HEADs, a skopeo push or pull. */
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { run } from '../harness/process.js';
import { pullToLayout, pushLayout } from '../harness/skopeo.js';
import type { Credentials } from '../harness/skopeo.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/**
 * GETs `url` with curl into /dev/null and returns bytes per second. curl is
 * the client for every target, in its own process, so the bench's event loop
 * is not part of the path.
 */
export async function getThroughput(url: string, expectedBytes: number, creds?: Credentials): Promise<number> {
  const auth = creds === undefined ? [] : ['-u', `${creds.username}:${creds.password}`];
  const result = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{time_total}', ...auth, url], { timeoutMs: 600_000 });
  const [status, size, seconds] = result.stdout.trim().split(' ');
  if (result.code !== 0 || status !== '200' || Number(size) !== expectedBytes) {
    throw new Error(`GET ${url}: exit ${result.code}, status ${status}, ${size} of ${expectedBytes} bytes: ${result.stderr}`);
  }
  return expectedBytes / Number(seconds);
}

/** What hey reports for one burst. */
export interface HeadRate {
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * `hey -m HEAD` (wrk and autocannon hang on HEAD answers with a
 * Content-Length) with the OCI Accept header (without it distribution answers
 * 404 for an OCI manifest). Every answer must be 200.
 */
export async function headRate(url: string, requests: number, concurrency: number, creds?: Credentials): Promise<HeadRate> {
  const auth = creds === undefined ? [] : ['-H', `Authorization: Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`];
  const args = ['-m', 'HEAD', '-n', String(requests), '-c', String(concurrency), '-H', `Accept: ${OCI_MANIFEST}`, ...auth, url];
  const result = await run('hey', args, { timeoutMs: 300_000 });
  const out = result.stdout;
  // hey gives each of its `-c` workers `-n / -c` requests.
  const expected = Math.floor(requests / concurrency) * concurrency;
  const statuses = [...out.matchAll(/\[(\d+)\]\s+(\d+) responses/g)].map((m) => `${m[1]}×${m[2]}`);
  if (result.code !== 0 || statuses.length !== 1 || statuses[0] !== `200×${expected}`) {
    throw new Error(`hey HEAD ${url}: exit ${result.code}, statuses ${statuses.join(', ') || 'none'}\n${out}${result.stderr}`);
  }
  return { perSecond: field(out, /Requests\/sec:\s+([\d.]+)/), p50Ms: field(out, /50% in ([\d.]+) secs/) * 1000, p99Ms: field(out, /99% in ([\d.]+) secs/) * 1000 };
}

/** Seconds `skopeo copy oci:LAYOUT → docker://dest` took; throws unless it succeeded. */
export async function pushSeconds(layoutDir: string, tag: string, dest: string, creds?: Credentials): Promise<number> {
  const started = performance.now();
  const result = await pushLayout(layoutDir, tag, dest, creds);
  const seconds = (performance.now() - started) / 1000;
  if (result.code !== 0) throw new Error(`skopeo push ${dest}: exit ${result.code}: ${result.stderr}`);
  return seconds;
}

/** Seconds `skopeo copy docker://src → oci:DIR` took; the layout is removed afterwards. */
export async function pullSeconds(src: string, destDir: string, creds?: Credentials): Promise<number> {
  const started = performance.now();
  const result = await pullToLayout(src, destDir, creds);
  const seconds = (performance.now() - started) / 1000;
  await rm(destDir, { recursive: true, force: true });
  if (result.code !== 0) throw new Error(`skopeo pull ${src}: exit ${result.code}: ${result.stderr}`);
  return seconds;
}

function field(text: string, pattern: RegExp): number {
  const match = pattern.exec(text);
  if (match === null) throw new Error(`hey output lacks ${pattern.source}:\n${text}`);
  return Number(match[1]);
}
