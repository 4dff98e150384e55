import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createMetrics } from '../../src/metrics/catalogue.js';
import { promtool } from '../helpers/prometheus.js';
import { ALERTS_FILE, alertRules, metricNamesIn } from '../helpers/promql.js';

const TESTS_DIR = 'config/prometheus/tests';
const testFiles = readdirSync(TESTS_DIR)
  .filter((f) => f.endsWith('.test.yaml'))
  .map((f) => `${TESTS_DIR}/${f}`);

interface PromtoolTests {
  tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

describe('alerting rules (config/prometheus/alerts.yaml)', () => {
  it('pass promtool check rules', () => {
    const r = promtool(['check', 'rules', ALERTS_FILE]);
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.code, r.output).toBe(0);
  });

  it('pass their promtool unit tests', () => {
    expect(testFiles.length).toBeGreaterThan(0);
    const r = promtool(['test', 'rules', ...testFiles]);
    expect(r.code, r.output).toBe(0);
    expect(r.output.match(/SUCCESS/g)?.length, r.output).toBe(testFiles.length);
  });

  it('each have a case where they fire and one where they must not', () => {
    const cases = testFiles.flatMap((f) => (parse(readFileSync(f, 'utf8')) as PromtoolTests).tests.flatMap((t) => t.alert_rule_test ?? []));
    for (const { rule } of alertRules()) {
      const mine = cases.filter((c) => c.alertname === rule.alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${rule.alert} fires in a test`,
      ).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${rule.alert} stays silent in a test`,
      ).toBe(true);
    }
  });

  it('each carry a severity, a summary and a runbook section in docs/alerts.md', () => {
    const doc = readFileSync('docs/alerts.md', 'utf8');
    const headings = new Set([...doc.matchAll(/^### (\S+)$/gm)].map((m) => m[1]));
    const rules = alertRules();
    for (const { rule } of rules) {
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.runbook_url, rule.alert).toBe(`docs/alerts.md#${rule.alert.toLowerCase()}`);
      expect(headings.has(rule.alert), `### ${rule.alert} in docs/alerts.md`).toBe(true);
    }
    // And no runbook for an alert that does not exist.
    expect([...headings].sort()).toEqual([...new Set(rules.map((r) => r.rule.alert))].sort());
  });
});

describe('metricNamesIn', () => {
  it('finds selected metrics, not functions, keywords, labels or numbers', () => {
    const expr = `sum by (route, le) (rate(switchyard_nope_total{route=~"a|b", x="rate(y)"}[5m] offset 1h))
      / ignoring(backend) group_left topk(3, other_metric) > 1e3 and on (job) up`;
    expect(metricNamesIn(expr).sort()).toEqual(['other_metric', 'switchyard_nope_total', 'up']);
  });
});

describe('switchyard_rules_reloads_total', () => {
  // A failure counter that appears at 1 is invisible to increase(): SwitchyardRulesReloadFailing
  // relies on every result starting at 0.
  it('starts at 0 for every result', async () => {
    const text = await createMetrics({ processMetrics: false }).registry.metrics();
    for (const result of ['applied', 'invalid', 'error']) expect(text).toContain(`switchyard_rules_reloads_total{result="${result}"} 0`);
  });
});
