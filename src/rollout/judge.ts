/**
 * The judgement of one rollout step (docs/rollouts.md, "Judgement"): a pure function of the
 * policy, the time at the step and the evidence since the step began. It promotes when every
 * gate passes and the step has its minimum time and data, holds (saying what is missing) while
 * the data is thin, and breaches only when a gate's evidence is conclusive.
 */
import { LATENCY_BUCKETS } from '../metrics/catalogue.js';
import type { RolloutPolicy } from '../rules/rollout-policy.js';
import type { RouteEvidence } from './evidence.js';

/** One-sided 95% bounds: the z of the normal distribution's 95th percentile. */
export const Z95 = 1.6449;

export type GateName = 'mismatch_rate' | 'error_rate' | 'p99_ratio';
export const GATES: readonly GateName[] = ['mismatch_rate', 'error_rate', 'p99_ratio'];

export interface GateReading {
  gate: GateName;
  /** The value compared with the limit (mismatch_rate: the upper bound); null when unknown. */
  value: number | null;
  limit: number;
  /** pass: under the limit; open: not yet decided (missing data); breach: conclusively over. */
  status: 'pass' | 'open' | 'breach';
  detail: string;
}

export interface StepCounts {
  /** Requests served by `to` / by the other backend. */
  requests: number;
  otherRequests: number;
  /** Comparisons that count (match, noise, mismatch, and errors and timeouts of the candidate). */
  comparisons: number;
  /** Mismatches plus the candidate's shadow errors and timeouts. */
  mismatches: number;
  errorRateTo: number;
  errorRateOther: number;
  p99To: number | null;
  p99Other: number | null;
}

export interface Verdict {
  action: 'promote' | 'hold' | 'breach';
  gates: GateReading[];
  counts: StepCounts;
  /** What is missing before a promotion (empty on promote). */
  missing: string[];
  /** Why the step breached (set on breach). */
  breach?: string;
  /** The evidence in one line, for rule-push messages: "requests 812, comparisons 640, ...". */
  summary: string;
}

/** The Wilson score interval of `k` successes in `n` trials, with one-sided bounds at `z`. */
export function wilson(k: number, n: number, z = Z95): { lower: number; upper: number } {
  if (n <= 0) return { lower: 0, upper: 1 };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

/**
 * A quantile from fixed-bucket counts, as Prometheus' histogram_quantile: linear within the
 * bucket that holds the rank; the last finite bound when the rank falls in the overflow bucket.
 */
export function quantile(q: number, counts: readonly number[], bounds: readonly number[] = LATENCY_BUCKETS): number | null {
  const total = counts.reduce((a, c) => a + c, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (seen + c >= rank && c > 0) {
      if (i >= bounds.length) return bounds[bounds.length - 1]!;
      const lo = i === 0 ? 0 : bounds[i - 1]!;
      return lo + (bounds[i]! - lo) * ((rank - seen) / c);
    }
    seen += c;
  }
  return bounds[bounds.length - 1]!;
}

const CANDIDATE_FAILURES = ['shadow_error', 'shadow_timeout'];

/** Counts of a step from the evidence, seen from the policy's `to` and `from`. */
export function stepCounts(policy: RolloutPolicy, ev: RouteEvidence): StepCounts {
  const to = ev.backends[policy.to];
  const other = ev.backends[policy.from];
  const c = ev.comparisons;
  // An error or timeout of the copy sent to the candidate counts against it, not as "no data";
  // one of the copy sent to the other backend says nothing about the candidate.
  const failures = CANDIDATE_FAILURES.reduce((a, r) => a + (c[`${r}:${policy.to}`] ?? 0), 0);
  const mismatches = (c.mismatch ?? 0) + failures;
  const comparisons = (c.match ?? 0) + (c.noise ?? 0) + mismatches;
  const rate = (b: typeof to) => (b && b.requests > 0 ? b.errors / b.requests : 0);
  return {
    requests: to?.requests ?? 0,
    otherRequests: other?.requests ?? 0,
    comparisons,
    mismatches,
    errorRateTo: rate(to),
    errorRateOther: rate(other),
    p99To: to ? quantile(0.99, to.latency) : null,
    p99Other: other ? quantile(0.99, other.latency) : null,
  };
}

const pct = (x: number, digits = 2) => `${(x * 100).toFixed(digits)}%`;
const signedPct = (x: number) => `${x < 0 ? '-' : '+'}${pct(Math.abs(x))}`;

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return ms < 1000 ? `${Math.round(ms)}ms` : `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export interface JudgeInput {
  policy: RolloutPolicy;
  /** Time spent at the current step so far (ms). */
  timeAtStepMs: number;
  evidence: RouteEvidence;
}

export function judge({ policy, timeAtStepMs, evidence }: JudgeInput): Verdict {
  const n = stepCounts(policy, evidence);
  const g = policy.gates;
  const enoughRequests = n.requests >= policy.minRequests;
  const missing: string[] = [];
  const gates: GateReading[] = [];

  // mismatch_rate: the Wilson interval decides both ways; no minimum is needed to breach.
  const w = wilson(n.mismatches, n.comparisons);
  if (n.comparisons === 0 && policy.minComparisons === 0) {
    gates.push({ gate: 'mismatch_rate', value: null, limit: g.mismatchRate, status: 'pass', detail: 'no comparisons required' });
  } else {
    const status = w.lower > g.mismatchRate ? 'breach' : w.upper <= g.mismatchRate ? 'pass' : 'open';
    const detail = `${n.mismatches} of ${n.comparisons} differ: between ${pct(w.lower)} and ${pct(w.upper)}`;
    gates.push({ gate: 'mismatch_rate', value: w.upper, limit: g.mismatchRate, status, detail });
    if (status === 'open') missing.push(`mismatch_rate: upper bound ${pct(w.upper)} is over ${pct(g.mismatchRate)}; more comparisons needed`);
  }

  // error_rate: the difference of the two 5xx rates, judged once `to` has its minimum requests.
  const errDiff = n.errorRateTo - n.errorRateOther;
  {
    const over = errDiff > g.errorRate;
    const status = !enoughRequests ? 'open' : over ? 'breach' : 'pass';
    gates.push({ gate: 'error_rate', value: errDiff, limit: g.errorRate, status, detail: `5xx ${pct(n.errorRateTo)} vs ${pct(n.errorRateOther)}` });
  }

  // p99_ratio: needs latency on both sides, and `to` its minimum requests.
  const ratio = n.p99To !== null && n.p99Other !== null && n.p99Other > 0 ? n.p99To / n.p99Other : null;
  {
    const known = ratio !== null && enoughRequests && n.otherRequests > 0;
    const status = ratio === null && policy.minRequests === 0 ? 'pass' : !known ? 'open' : ratio! > g.p99Ratio ? 'breach' : 'pass';
    const ms = (s: number | null) => (s === null ? '-' : `${(s * 1000).toFixed(1)}ms`);
    gates.push({ gate: 'p99_ratio', value: ratio, limit: g.p99Ratio, status, detail: `p99 ${ms(n.p99To)} vs ${ms(n.p99Other)}` });
    if (status === 'open' && enoughRequests) missing.push(`p99_ratio: no latency yet from ${n.p99To === null ? policy.to : policy.from}`);
  }

  if (timeAtStepMs < policy.intervalMs) missing.push(`time: ${formatDuration(timeAtStepMs)} of ${formatDuration(policy.intervalMs)} at this step`);
  if (!enoughRequests) missing.push(`requests: ${n.requests} of ${policy.minRequests} served by ${policy.to}`);
  if (n.comparisons < policy.minComparisons) missing.push(`comparisons: ${n.comparisons} of ${policy.minComparisons}`);

  const summary =
    `requests ${n.requests}, comparisons ${n.comparisons}, mismatch <= ${n.comparisons ? pct(w.upper) : '-'}, ` +
    `errors ${signedPct(errDiff)}, p99 ${ratio === null ? '-' : `${ratio.toFixed(2)}x`}`;
  const breached = gates.find((x) => x.status === 'breach');
  if (breached) {
    const limit = breached.gate === 'p99_ratio' ? `${breached.limit}x` : pct(breached.limit);
    const value = breached.gate === 'p99_ratio' ? `${breached.value!.toFixed(2)}x` : breached.gate === 'mismatch_rate' ? `lower bound ${pct(w.lower)}` : signedPct(breached.value!);
    return { action: 'breach', gates, counts: n, missing, breach: `${breached.gate} ${value} over ${limit} (${breached.detail})`, summary };
  }
  return { action: missing.length ? 'hold' : 'promote', gates, counts: n, missing, summary };
}
