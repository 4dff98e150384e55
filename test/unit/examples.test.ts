import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRuleSet } from '../../src/rules/rule-set.js';

describe('examples', () => {
  it('examples/rules.yaml is a valid rule set with a split, shadowing and noise learning', () => {
    const rules = parseRuleSet(readFileSync('examples/rules.yaml', 'utf8'), 'examples/rules.yaml', { backends: ['legacy', 'pipeline'] });
    expect(rules.routes.map((r) => r.name)).toEqual(['catalog', 'search', 'volatile', 'old-links']);
    expect(rules.routes[0]!.split.percent).toEqual({ legacy: 70, pipeline: 30 });
    expect(rules.routes[2]!.shadow?.learnNoisePercent).toBe(20);
  });
});
