import { describe, expect, it } from 'vitest';
import { formatIssue } from '../../src/config/yaml-source.js';
import { LATENCY_BUCKETS } from '../../src/metrics/catalogue.js';
import { judge, quantile, wilson } from '../../src/rollout/judge.js';
import { setShare } from '../../src/rollout/split-edit.js';
import type { BackendEvidence, RouteEvidence } from '../../src/rollout/evidence.js';
import { parseRuleSet, validateRuleText } from '../../src/rules/rule-set.js';
import type { RolloutPolicy } from '../../src/rules/rollout-policy.js';

const rc = { backends: ['legacy', 'pipeline'] };

const policy: RolloutPolicy = {
  to: 'pipeline',
  from: 'legacy',
  steps: [1, 5, 25, 50, 100],
  intervalMs: 300_000,
  minRequests: 500,
  minComparisons: 200,
  gates: { mismatchRate: 0.005, errorRate: 0.005, p99Ratio: 1.25 },
  onBreach: 'rollback',
};

/** `requests` answers all in the latency bucket whose upper bound is `seconds`, `errors` of them 5xx. */
function backend(requests: number, errors: number, seconds: number): BackendEvidence {
  const latency = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);
  latency[LATENCY_BUCKETS.indexOf(seconds)] = requests;
  return { requests, errors, latency };
}

function evidence(opts: { to?: BackendEvidence; other?: BackendEvidence; comparisons?: Record<string, number> }): RouteEvidence {
  const backends: Record<string, BackendEvidence> = {};
  if (opts.to) backends.pipeline = opts.to;
  if (opts.other) backends.legacy = opts.other;
  return { backends, comparisons: opts.comparisons ?? {} };
}

describe('Wilson score interval (one-sided 95%)', () => {
  it('matches the worked example of docs/rollouts.md', () => {
    // 2 mismatches in 1000 comparisons: [0.066%, 0.603%], over a 0.5% limit: hold. In 2000: 0.302%.
    const w = wilson(2, 1000);
    expect(w.lower).toBeCloseTo(0.000662, 6);
    expect(w.upper).toBeCloseTo(0.006026, 6);
    expect(wilson(2, 2000).upper).toBeCloseTo(0.003017, 6);
    // With no mismatch at all, 539 comparisons bring the upper bound under 0.5%.
    expect(wilson(0, 538).upper).toBeGreaterThan(0.005);
    expect(wilson(0, 539).upper).toBeLessThan(0.005);
  });

  it('is [0, 1] without data and narrows with more', () => {
    expect(wilson(0, 0)).toEqual({ lower: 0, upper: 1 });
    expect(wilson(0, 600).upper).toBeLessThan(wilson(0, 100).upper);
    expect(wilson(0, 600).lower).toBe(0);
  });
});

describe('quantile from fixed buckets', () => {
  it('interpolates inside the bucket that holds the rank, as histogram_quantile', () => {
    const counts = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);
    counts[LATENCY_BUCKETS.indexOf(0.01)] = 100; // all in (0.005, 0.01]
    expect(quantile(0.99, counts)).toBeCloseTo(0.005 + 0.005 * 0.99, 6);
    expect(quantile(0.99, counts.map(() => 0))).toBeNull();
  });
});

describe('judge', () => {
  const clean = evidence({ to: backend(800, 0, 0.01), other: backend(40_000, 0, 0.01), comparisons: { match: 700 } });

  it('promotes when time, data and every gate pass, and says so in one line', () => {
    const v = judge({ policy, timeAtStepMs: 300_000, evidence: clean });
    expect(v.action).toBe('promote');
    expect(v.missing).toEqual([]);
    expect(v.summary).toMatch(/^requests 800, comparisons 700, mismatch <= 0\.\d\d%, errors \+0\.00%, p99 1\.00x$/);
  });

  it('promotes the worked example of docs/rollouts.md', () => {
    const ev = evidence({
      to: backend(812, 1, 0.05),
      other: backend(15_420, 17, 0.05),
      comparisons: { match: 1990, noise: 8, mismatch: 1, 'shadow_timeout:pipeline': 1, 'shadow_error:legacy': 3 },
    });
    const v = judge({ policy, timeAtStepMs: 360_000, evidence: ev });
    expect(v.action).toBe('promote');
    expect(v.summary).toBe('requests 812, comparisons 2000, mismatch <= 0.30%, errors +0.01%, p99 1.00x');
  });

  it('holds before the interval, naming the time left', () => {
    const v = judge({ policy, timeAtStepMs: 60_000, evidence: clean });
    expect(v.action).toBe('hold');
    expect(v.missing).toEqual(['time: 1m00s of 5m00s at this step']);
  });

  it('holds on thin data, never fails, and says what is missing', () => {
    const v = judge({ policy, timeAtStepMs: 900_000, evidence: evidence({ to: backend(12, 0, 0.01), other: backend(900, 0, 0.01), comparisons: { match: 30 } }) });
    expect(v.action).toBe('hold');
    expect(v.missing).toContain('requests: 12 of 500 served by pipeline');
    expect(v.missing).toContain('comparisons: 30 of 200');
    expect(v.missing.some((m) => m.startsWith('mismatch_rate: upper bound'))).toBe(true);
  });

  it('holds with no evidence at all', () => {
    const v = judge({ policy, timeAtStepMs: 900_000, evidence: evidence({}) });
    expect(v.action).toBe('hold');
    expect(v.gates.every((g) => g.status === 'open')).toBe(true);
  });

  it('breaches on mismatches once the lower bound is over the limit, before the minimums', () => {
    const v = judge({ policy, timeAtStepMs: 1000, evidence: evidence({ to: backend(5, 0, 0.01), comparisons: { match: 20, mismatch: 10 } }) });
    expect(v.action).toBe('breach');
    expect(v.breach).toMatch(/^mismatch_rate lower bound \d+\.\d\d% over 0\.50%/);
  });

  it('counts shadow errors and timeouts of the candidate as mismatches, not those of the other backend', () => {
    const against = judge({ policy, timeAtStepMs: 1000, evidence: evidence({ comparisons: { match: 20, 'shadow_timeout:pipeline': 10 } }) });
    expect(against.action).toBe('breach');
    const other = judge({ policy, timeAtStepMs: 1000, evidence: evidence({ comparisons: { match: 20, 'shadow_error:legacy': 10 } }) });
    expect(other.action).toBe('hold');
    expect(other.counts.comparisons).toBe(20);
  });

  it('breaches on the error gate only with the minimum requests', () => {
    const thin = judge({ policy, timeAtStepMs: 1000, evidence: evidence({ to: backend(100, 50, 0.01), other: backend(1000, 0, 0.01), comparisons: { match: 700 } }) });
    expect(thin.action).toBe('hold');
    const enough = judge({ policy, timeAtStepMs: 1000, evidence: evidence({ to: backend(600, 30, 0.01), other: backend(1000, 1, 0.01), comparisons: { match: 700 } }) });
    expect(enough.action).toBe('breach');
    expect(enough.breach).toMatch(/^error_rate \+4\.90% over 0\.50%/);
  });

  it('breaches on the p99 ratio with the minimum requests', () => {
    const v = judge({ policy, timeAtStepMs: 1000, evidence: evidence({ to: backend(600, 0, 0.1), other: backend(1000, 0, 0.01), comparisons: { match: 700 } }) });
    expect(v.action).toBe('breach');
    expect(v.breach).toMatch(/^p99_ratio \d+\.\d\dx over 1\.25x/);
  });
});

const RULES = `default: legacy
routes:
  - name: catalog
    match: { path: "/api/catalog/**" }
    split: { legacy: 99, pipeline: 1 }   # the split moves
    sticky: "header:x-user-id"
    shadow: { percent: 100, to: pipeline }
    rollout:
      to: pipeline
      steps: [1, 5, 25, 50, 100]
      interval: 5m
      min_requests: 500
      min_comparisons: 200
      gates: { mismatch_rate: 0.5%, error_rate: 0.5%, p99_ratio: 1.25 }
      on_breach: rollback
`;

describe('the rollout block', () => {
  it('compiles the documented example', () => {
    const r = parseRuleSet(RULES, 'rules.yaml', rc).routes[0]!.rollout!;
    expect(r).toEqual({ ...policy });
  });

  it('reports bad steps, a `to` outside the split, bad percentages and durations at FILE:LINE:COL', () => {
    const text = RULES.replace('steps: [1, 5, 25, 50, 100]', 'steps: [5, 1, 120]')
      .replace('mismatch_rate: 0.5%', 'mismatch_rate: half')
      .replace('interval: 5m', 'interval: soon');
    const out = validateRuleText(text, 'rules.yaml', rc).map(formatIssue);
    expect(out).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^rules\.yaml:10:\d+: routes\[0\]\.rollout\.steps\[2\]: 120 is above the maximum 100$/),
        expect.stringMatching(/^rules\.yaml:11:\d+: routes\[0\]\.rollout\.interval: expected a duration/),
        expect.stringMatching(/^rules\.yaml:14:\d+: routes\[0\]\.rollout\.gates\.mismatch_rate: expected a percentage/),
      ]),
    );
    const descending = validateRuleText(RULES.replace('steps: [1, 5, 25, 50, 100]', 'steps: [5, 1]'), 'rules.yaml', rc).map(formatIssue);
    expect(descending).toEqual([expect.stringMatching(/^rules\.yaml:\d+:\d+: routes\[0\]\.rollout\.steps\[1\]: steps must be strictly ascending/)]);
    const foreign = validateRuleText(RULES.replace('split: { legacy: 99, pipeline: 1 }', 'split: { legacy: 100 }'), 'rules.yaml', rc).map(formatIssue);
    expect(foreign).toEqual([expect.stringMatching(/^rules\.yaml:9:7: routes\[0\]\.rollout\.to: "pipeline" is not a backend of the split/)]);
    const noShadow = validateRuleText(RULES.replace('    shadow: { percent: 100, to: pipeline }\n', ''), 'rules.yaml', rc).map(formatIssue);
    expect(noShadow).toEqual([expect.stringMatching(/routes\[0\]\.rollout\.min_comparisons: needs a "shadow" block/)]);
  });
});

describe('setShare', () => {
  it('changes the two weights of one route and nothing else', () => {
    const out = setShare(RULES, 'catalog', 'pipeline', 'legacy', 25);
    expect(out).toBe(RULES.replace('split: { legacy: 99, pipeline: 1 }', 'split: { legacy: 75, pipeline: 25 }'));
    expect(setShare(out, 'catalog', 'pipeline', 'legacy', 0.5)).toContain('split: { legacy: 99.5, pipeline: 0.5 }   # the split moves');
  });
});
