import { describe, expect, it } from 'vitest';
import { assessRoutes } from '../../src/gateway/readiness.js';
import { parseRuleSet } from '../../src/rules/rule-set.js';

const rc = { backends: ['legacy', 'pipeline', 'beta'] };
const rules = parseRuleSet(
  `default: legacy
routes:
  - name: ramp
    split: { legacy: 50, pipeline: 50 }
    fallback: { to: legacy }
  - name: new-only
    backend: pipeline
  - name: off
    split: { legacy: 100, beta: 0 }
`,
  'rules.yaml',
  rc,
);
const upWhen =
  (...up: string[]) =>
  (b: string) =>
    up.includes(b);

describe('readiness', () => {
  it('is ready when every backend the rules send traffic to is up; weight 0 sends none', () => {
    const a = assessRoutes(rules, upWhen('legacy', 'pipeline'));
    expect(a.unserved).toEqual([]);
    expect(a.used.sort()).toEqual(['legacy', 'pipeline']);
  });

  it('counts a route as served while its fallback is up, and names the routes that are not', () => {
    const a = assessRoutes(rules, upWhen('legacy'));
    expect(a.onFallback).toEqual([{ route: 'ramp', backend: 'pipeline', fallback: 'legacy' }]);
    expect(a.unserved).toEqual([{ route: 'new-only', backend: 'pipeline' }]);
  });

  it('is not ready when the default backend is down, nor when a fallback is down too', () => {
    const a = assessRoutes(rules, upWhen('pipeline'));
    expect(a.unserved).toEqual([
      { route: 'default', backend: 'legacy' },
      { route: 'ramp', backend: 'legacy' },
      { route: 'off', backend: 'legacy' },
    ]);
  });
});
