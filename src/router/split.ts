/**
 * Sticky percentage split. A request's bucket is a number in [0, 10000); the split maps bucket
 * ranges to backends. The hash is documented in docs/rules.md so that another tier can
 * reproduce the decision:
 *
 *   bucket = murmur3_x86_32(utf8(salt + "\n" + key), seed 0) mod 10000
 *
 * Ranges are laid out in the order backends are declared in the gateway config, each as wide as
 * its weight in hundredths of a percent. With two backends A then B, raising B's share moves the
 * A/B boundary down: keys already on B stay on B, and lowering B's share only moves keys off B.
 */
import { murmur3 } from './murmur3.js';

export const BUCKETS = 10_000;

export interface SplitRange {
  backend: string;
  /** Exclusive upper bound in [1, 10000]. */
  upTo: number;
}

/** A compiled split: ranges in bucket order; `single` set when one backend takes everything. */
export interface Split {
  ranges: readonly SplitRange[];
  single?: string;
  /** Configured percent per backend, for metrics and explain. */
  percent: Readonly<Record<string, number>>;
}

export function bucketOf(salt: string, key: string): number {
  return murmur3(salt + '\n' + key) % BUCKETS;
}

export function randomBucket(random: () => number = Math.random): number {
  return Math.floor(random() * BUCKETS) % BUCKETS;
}

/**
 * Builds a split from percentages (up to two decimals, summing to 100), laying ranges in
 * `backendOrder`. Backends with weight 0 get no range.
 */
export function compileSplit(percent: Record<string, number>, backendOrder: readonly string[]): Split {
  const ranges: SplitRange[] = [];
  let upTo = 0;
  for (const backend of backendOrder) {
    const hundredths = Math.round((percent[backend] ?? 0) * 100);
    if (hundredths <= 0) continue;
    upTo += hundredths;
    ranges.push({ backend, upTo });
  }
  const last = ranges[ranges.length - 1];
  if (last) last.upTo = BUCKETS; // guard against rounding; validation already checked the sum
  return {
    ranges,
    single: ranges.length === 1 ? ranges[0]!.backend : undefined,
    percent: Object.freeze({ ...percent }),
  };
}

export function backendForBucket(split: Split, bucket: number): string {
  for (const r of split.ranges) if (bucket < r.upTo) return r.backend;
  return split.ranges[split.ranges.length - 1]!.backend;
}
