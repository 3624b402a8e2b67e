/** Medians, ratios against direct, the targets, and the printed table. */

/** Everything one run measured; written as JSON. */
export interface Results {
  readonly startedAt: string;
  readonly command: string;
  readonly machine: { readonly cpus: number; readonly node: string };
  readonly options: Record<string, unknown>;
  readonly targets: readonly string[];
  /** peers that were not run, and why */
  readonly skipped: Record<string, string>;
  readonly blobBytes: number;
  /** bytes/s per target, every sample */
  readonly get: Record<string, number[]>;
  /** seconds per target */
  readonly push: Record<string, number[]>;
  readonly pull: Record<string, number[]>;
  readonly headKey: Record<string, HeadSample[]>;
  readonly headAnon: Record<string, HeadSample[]>;
  /** the gate's VmHWM (bytes) over each large transfer, reset before each */
  readonly gateRss: { readonly idle: number; readonly smallGet: number[]; readonly smallBytes: number; readonly get: number[]; readonly push: number[]; readonly pull: number[] };
  readonly soak?: Soak;
}

export interface HeadSample {
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface Soak {
  readonly minutes: number;
  readonly requests: number;
  readonly statuses: Record<string, number>;
  /** bytes/s of the 1 GiB GET right before and after the soak */
  readonly gateBefore: number[];
  readonly gateAfter: number[];
  readonly directBefore: number[];
  readonly directAfter: number[];
  readonly gateRssAfter: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const MIB = 1024 * 1024;
const MB = 1_000_000;

type Row = [figure: string, ...cells: string[]];

/** The per-target table: medians, and the ratio against direct below each. */
export function figuresTable(r: Results): string {
  const header: Row = ['figure', ...r.targets];
  const rows: Row[] = [];
  const perTarget = (figure: string, value: (t: string) => number, fmt: (v: number) => string, ratio: boolean): void => {
    rows.push([figure, ...r.targets.map((t) => fmtOr(value(t), fmt))]);
    if (ratio) rows.push([`  ÷ direct`, ...r.targets.map((t) => fmtOr(value(t) / value('direct'), (v) => v.toFixed(2)))]);
  };
  perTarget(`GET ${(r.blobBytes / MIB).toFixed(0)} MiB blob, MiB/s`, (t) => median(r.get[t] ?? []) / MIB, (v) => v.toFixed(0), true);
  perTarget('skopeo push, s', (t) => median(r.push[t] ?? []), (v) => v.toFixed(2), true);
  perTarget('skopeo pull, s', (t) => median(r.pull[t] ?? []), (v) => v.toFixed(2), true);
  perTarget('HEAD manifest, API key, req/s', (t) => medianOf(r.headKey[t], 'perSecond'), (v) => v.toFixed(0), true);
  perTarget('  p50 / p99 ms', (t) => medianOf(r.headKey[t], 'p50Ms'), (v) => v.toFixed(2), false);
  rows[rows.length - 1] = ['  p50 / p99 ms', ...r.targets.map((t) => latency(r.headKey[t]))];
  perTarget('HEAD manifest, anonymous, req/s', (t) => medianOf(r.headAnon[t], 'perSecond'), (v) => v.toFixed(0), true);
  rows.push(['  p50 / p99 ms', ...r.targets.map((t) => latency(r.headAnon[t]))]);
  return markdown(header, rows);
}

/** The targets, each with the figure reached and whether it is met. */
export function targetsTable(r: Results): string {
  const ratio = (figure: Record<string, number[]>, target: string): number => median(figure[target] ?? []) / median(figure['direct'] ?? []);
  const gateGet = median(r.get['gate'] ?? []);
  const peers = r.targets.filter((t) => t !== 'direct' && t !== 'gate');
  const peakGiB = Math.max(...r.gateRss.get, ...r.gateRss.push, ...r.gateRss.pull);
  const rows: Row[] = [
    row('1 GiB GET throughput, gate / direct', ratio(r.get, 'gate'), '≥ 0.80', (v) => v >= 0.8),
    row('skopeo push 1 GiB, gate / direct time', ratio(r.push, 'gate'), '≤ 1.10', (v) => v <= 1.1),
    row('HEAD rate with API key, gate / direct', medianOf(r.headKey['gate'], 'perSecond') / medianOf(r.headKey['direct'], 'perSecond'), '≥ 0.75', (v) => v >= 0.75),
    [
      'gate peak RSS while moving 1 GiB (GET / push / pull; small GET)',
      `${mb(Math.max(...r.gateRss.get))} / ${mb(Math.max(...r.gateRss.push))} / ${mb(Math.max(...r.gateRss.pull))} MB; ${mb(Math.max(...r.gateRss.smallGet))} MB at ${(r.gateRss.smallBytes / MIB).toFixed(0)} MiB`,
      '≤ 150 MB, flat with size',
      verdict(peakGiB / MB <= 150),
    ],
  ];
  if (r.soak === undefined) rows.push(['1 GiB GET after the soak / before', 'not run', '≥ 0.90', '–']);
  else {
    const after = median(r.soak.gateAfter) / median(r.soak.gateBefore);
    const control = median(r.soak.directAfter) / median(r.soak.directBefore);
    rows.push(row(`1 GiB GET after a ${r.soak.minutes} min soak / before (direct, same times: ${control.toFixed(2)})`, after, '≥ 0.90', (v) => v >= 0.9));
  }
  const beats = peers.map((p) => `${p} ${(gateGet / median(r.get[p] ?? [])).toFixed(2)}×`).join(', ');
  const faster = peers.length > 0 && peers.every((p) => gateGet > median(r.get[p] ?? []));
  rows.push(['the gate vs nginx and Caddy on the same GET', peers.length === 0 ? 'no peers ran' : `gate/peer: ${beats}`, 'faster than both', peers.length === 0 ? '–' : verdict(faster)]);
  return markdown(['figure', 'reached', 'target', 'met'], rows);
}

function row(figure: string, value: number, target: string, ok: (v: number) => boolean): Row {
  return [figure, fmtOr(value, (v) => v.toFixed(2)), target, Number.isNaN(value) ? '–' : verdict(ok(value))];
}

function verdict(ok: boolean): string {
  return ok ? 'yes' : 'NO';
}

function medianOf(samples: readonly HeadSample[] | undefined, key: keyof HeadSample): number {
  return median((samples ?? []).map((s) => s[key]));
}

function latency(samples: readonly HeadSample[] | undefined): string {
  if (samples === undefined || samples.length === 0) return '–';
  return `${medianOf(samples, 'p50Ms').toFixed(2)} / ${medianOf(samples, 'p99Ms').toFixed(2)}`;
}

function mb(bytes: number): string {
  return Number.isFinite(bytes) ? (bytes / MB).toFixed(0) : '–';
}

function fmtOr(value: number, fmt: (v: number) => string): string {
  return Number.isFinite(value) ? fmt(value) : '–';
}

function markdown(header: Row, rows: readonly Row[]): string {
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
