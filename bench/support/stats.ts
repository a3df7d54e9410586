// Pure statistics for the benchmark: percentiles and summaries of samples.
// No I/O here, so scripts/bench-stats.test.ts can pin the arithmetic.

/**
 * The p-th percentile (0 ≤ p ≤ 100) by linear interpolation between the two
 * nearest ranks (numpy's default, "type 7"): p50 of [1, 2, 3, 4] is 2.5.
 * Undefined for no samples.
 */
export function percentile(samples: readonly number[], p: number): number | undefined {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside 0..100`);
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  const lo = sorted[lower] as number;
  const hi = sorted[upper] as number;
  return lo + (hi - lo) * (rank - lower);
}

export interface Summary {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** count, min, p50, p90, p99, max and mean; undefined for no samples. */
export function summarize(samples: readonly number[]): Summary | undefined {
  if (samples.length === 0) return undefined;
  const total = samples.reduce((sum, x) => sum + x, 0);
  return {
    count: samples.length,
    min: Math.min(...samples),
    p50: percentile(samples, 50) as number,
    p90: percentile(samples, 90) as number,
    p99: percentile(samples, 99) as number,
    max: Math.max(...samples),
    mean: total / samples.length,
  };
}

/** The median, robust against one slow sample (used for RSS readings). */
export function median(samples: readonly number[]): number | undefined {
  return percentile(samples, 50);
}

/** a / b, or undefined when b is zero or either is missing (a ratio of nothing is not 0). */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || b === 0) return undefined;
  return a / b;
}

/**
 * Cumulative count over time from completion times: [[t0, 1], [t1, 2], …]
 * sorted by time, for "objects Ready over time" curves.
 */
export function cumulative(times: readonly number[]): Array<[number, number]> {
  return [...times].sort((a, b) => a - b).map((t, i) => [t, i + 1]);
}

/** The change of each counter between two snapshots (absent before counts as 0). */
export function counterDelta(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [key, value] of after) {
    const d = value - (before.get(key) ?? 0);
    if (d !== 0) delta.set(key, d);
  }
  return delta;
}

/** Sum of a map's values. */
export function total(counts: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const v of counts.values()) sum += v;
  return sum;
}
