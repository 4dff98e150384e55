/**
 * The diff report of a time window, fleet-wide: comparisons by result per route, summed from the
 * rollout evidence buckets in Redis (`switchyard diffs --since 10m`, `GET /diffs?since=10m`).
 * Field samples stay per process (GET /diffs without `since`).
 */
import type { RedisClient } from '../store/redis-client.js';
import { summary, type Outcome } from '../shadow/report.js';
import { readEvidence, type EvidenceOptions } from './evidence.js';

const SINCE = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** "10m" → 600000; undefined when malformed. */
export function parseSince(text: string): number | undefined {
  const m = SINCE.exec(text.trim());
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

export interface WindowReport {
  route: string;
  comparisons: number;
  match_rate: number | null;
  /** match, mismatch, noise, skipped, shadow_error, shadow_timeout (errors of every target summed). */
  results: Record<string, number>;
  /** Errors and timeouts by the target that failed. */
  failures_by_target: Record<string, number>;
}

export async function windowedDiffs(redis: RedisClient, opts: Pick<EvidenceOptions, 'prefix' | 'bucketMs' | 'retainMs'>, routes: readonly string[], sinceMs: number): Promise<WindowReport[]> {
  const out: WindowReport[] = [];
  for (const route of routes) {
    const ev = await readEvidence(redis, opts, route, sinceMs);
    const results: Record<string, number> = { match: 0, mismatch: 0, noise: 0, shadow_error: 0, shadow_timeout: 0, skipped: 0 };
    const byTarget: Record<string, number> = {};
    for (const [key, n] of Object.entries(ev.comparisons)) {
      const [result, target] = key.split(':') as [string, string | undefined];
      results[result] = (results[result] ?? 0) + n;
      if (target) byTarget[target] = (byTarget[target] ?? 0) + n;
    }
    const s = summary(results as Record<Outcome, number>);
    if (s.comparisons + results.skipped! === 0) continue;
    out.push({ route, ...s, results, failures_by_target: byTarget });
  }
  return out;
}
