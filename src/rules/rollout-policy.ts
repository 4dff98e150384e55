/**
 * A route's `rollout` block (docs/rollouts.md): the steps by which the share of one backend of
 * the split grows, the least time and data at each step, the gates the evidence must pass, and
 * what to do on a breach. Compiled once per rule set; the controller (src/rollout/) acts on it.
 */
import { duration, list, number, object, oneOf, opt, refine, reject, section, string, type Check } from '../config/schema.js';

export type OnBreach = 'rollback' | 'hold' | 'step_back';

export interface RolloutGates {
  /** Fraction (0.005 for "0.5%"): the upper confidence bound of mismatches / comparisons must stay under it. */
  mismatchRate: number;
  /** Fraction: 5xx rate of `to` minus that of the other backend must stay at or under it. */
  errorRate: number;
  /** p99 latency of `to` / p99 of the other backend must stay at or under it. */
  p99Ratio: number;
}

export interface RolloutPolicy {
  /** The backend whose share grows. */
  to: string;
  /** The backend of the split that gives its share up. */
  from: string;
  /** Percent of `to` at each step, strictly ascending, within (0, 100]. */
  steps: readonly number[];
  /** Least time at a step before a promotion (ms). */
  intervalMs: number;
  /** Requests served by `to` during the step before a promotion. */
  minRequests: number;
  /** Shadow comparisons during the step before a promotion. */
  minComparisons: number;
  gates: RolloutGates;
  onBreach: OnBreach;
}

const PERCENT = /^(\d+(?:\.\d+)?)\s*%$/;

/** A rate written as a percentage, "0.5%", returned as a fraction (0.005). */
function percentRate(): Check<number> {
  return refine(string(), (value, node, ctx, path) => {
    const m = PERCENT.exec(value.trim());
    const pct = m ? Number(m[1]) : NaN;
    if (!Number.isFinite(pct) || pct > 100) return reject(ctx, node, path, `expected a percentage such as "0.5%" (0% to 100%), got ${JSON.stringify(value)}`);
    return pct / 100;
  });
}

const steps: Check<number[]> = refine(list(number({ min: 0, max: 100, decimals: 2 }), { min: 1, max: 100 }), (values, node, ctx, path) => {
  for (let i = 0; i < values.length; i++) {
    if (values[i]! <= 0) return reject(ctx, node, `${path}[${i}]`, 'a step is a share above 0% (the rollout starts from the split as written)');
    if (i > 0 && values[i]! <= values[i - 1]!) return reject(ctx, node, `${path}[${i}]`, `steps must be strictly ascending (${values[i]} after ${values[i - 1]})`);
  }
  return values;
});

export function rolloutSchema(backendName: Check<string>) {
  return object({
    to: opt(backendName),
    steps: opt(steps),
    interval: opt(duration({ min: 1, max: 7 * 24 * 3600_000 }), 300_000),
    min_requests: opt(number({ integer: true, min: 0 }), 500),
    min_comparisons: opt(number({ integer: true, min: 0 }), 200),
    gates: opt(
      section({
        mismatch_rate: opt(percentRate(), 0.005),
        error_rate: opt(percentRate(), 0.005),
        p99_ratio: opt(number({ min: 0.01, max: 1000 }), 1.25),
      }),
    ),
    on_breach: opt(oneOf(['rollback', 'hold', 'step_back'] as const), 'rollback'),
  });
}

export type RolloutRaw = Exclude<ReturnType<ReturnType<typeof rolloutSchema>>, symbol>;

/**
 * Checks the block against its route (the split and the shadow) and compiles it. `to` and
 * `steps` are required; they are optional in the schema only so that this check can name them.
 */
export function compileRollout(
  raw: RolloutRaw,
  route: { split?: Record<string, number>; shadow?: unknown },
  report: (key: string, message: string) => void,
): RolloutPolicy | undefined {
  let ok = true;
  const bad = (key: string, message: string) => {
    ok = false;
    report(key, message);
  };
  if (!raw.to) bad('to', 'is required');
  if (!raw.steps) bad('steps', 'is required');
  if (!route.split) bad('', 'a rollout needs a "split" (with `to` and the one backend that gives up its share)');
  const names = Object.keys(route.split ?? {});
  const others = names.filter((n) => n !== raw.to);
  if (route.split && raw.to && !names.includes(raw.to)) bad('to', `${JSON.stringify(raw.to)} is not a backend of the split (write it with 0 to start from nothing: ${names.join(', ')})`);
  else if (route.split && others.length !== 1) bad('', `a rollout moves share between two backends; the split has ${names.length}`);
  if (raw.min_comparisons > 0 && !route.shadow) bad('min_comparisons', 'needs a "shadow" block on the route (or min_comparisons: 0)');
  if (!ok) return undefined;
  return {
    to: raw.to!,
    from: others[0]!,
    steps: raw.steps!,
    intervalMs: raw.interval,
    minRequests: raw.min_requests,
    minComparisons: raw.min_comparisons,
    gates: { mismatchRate: raw.gates.mismatch_rate, errorRate: raw.gates.error_rate, p99Ratio: raw.gates.p99_ratio },
    onBreach: raw.on_breach,
  };
}
