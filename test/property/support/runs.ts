/**
 * fast-check run counts: sized so that test/property stays within ~20 s on
 * two cores. `PROPERTY_RUNS_FACTOR=50 npx vitest run test/property` digs
 * deeper by hand; fast-check prints the seed and path of any failure, and
 * `fc.assert(..., { seed, path })` replays it.
 */
const factor = Number(process.env.PROPERTY_RUNS_FACTOR ?? '1');

export function runs(numRuns: number): { numRuns: number } {
  return { numRuns: Math.max(1, Math.round(numRuns * (Number.isFinite(factor) && factor > 0 ? factor : 1))) };
}
