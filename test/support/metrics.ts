/** Reading the gate's `/-/metrics` (Prometheus text exposition format 0.0.4). */

/**
 * One sample per series, keyed `name{labels}` with the labels sorted by
 * name (`name` alone without labels), so that a key does not depend on the
 * order the exposition prints them in. Comments and blank lines are skipped.
 */
export function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) continue;
    const labels = [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => `${k}="${v}"`).sort();
    out.set(labels.length === 0 ? match[1]! : `${match[1]}{${labels.join(',')}}`, Number(match[3]));
  }
  return out;
}

/** The samples of the families named (exactly: `name` or `name{…}`), as a record. */
export function samplesOf(text: string, ...families: string[]): Record<string, number> {
  return Object.fromEntries([...samples(text)].filter(([key]) => families.includes(key.replace(/\{.*$/, ''))));
}
