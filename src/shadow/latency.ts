/**
 * Response times of one side of a comparison as a fixed log-scale histogram: bounded memory,
 * and histograms of several minutes or several worker processes add up bucket by bucket, which
 * lets p50/p99 be read over any window (`GET /diffs?since=5m`, the console).
 */

/** Upper bounds (ms) of the buckets; the last bucket holds everything slower. */
export const LATENCY_BOUNDS_MS: readonly number[] = [1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10_000, 30_000];

export type Histogram = number[];

export function emptyHistogram(): Histogram {
  return new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
}

export function observe(h: Histogram, ms: number): void {
  let i = 0;
  while (i < LATENCY_BOUNDS_MS.length && ms > LATENCY_BOUNDS_MS[i]!) i++;
  h[i]!++;
}

/** Adds `from` into `into` (same bucket layout). */
export function addHistogram(into: Histogram, from: readonly number[]): void {
  for (let i = 0; i < into.length; i++) into[i]! += from[i] ?? 0;
}

/** The upper bound of the bucket holding quantile q (0..1); null without observations. */
export function quantile(h: readonly number[], q: number): number | null {
  const total = h.reduce((a, b) => a + b, 0);
  if (!total) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    seen += h[i]!;
    if (seen >= rank) return LATENCY_BOUNDS_MS[Math.min(i, LATENCY_BOUNDS_MS.length - 1)]!;
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]!;
}

export interface LatencySummary {
  count: number;
  /** Upper bound (ms) of the histogram bucket of the median and of the 99th percentile. */
  p50: number | null;
  p99: number | null;
  /** The raw histogram, so that reports of several processes can be merged. */
  buckets: number[];
}

export function summarize(h: readonly number[]): LatencySummary {
  return { count: h.reduce((a, b) => a + b, 0), p50: quantile(h, 0.5), p99: quantile(h, 0.99), buckets: [...h] };
}
