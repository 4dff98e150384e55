/**
 * Every PromQL expression switchyard ships: the ```promql blocks of docs/, the Grafana dashboard's
 * targets and the alerting rules; and the metric names an expression reads, to hold them to the
 * catalogue (src/metrics/catalogue.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createMetrics } from '../../src/metrics/catalogue.js';

export interface Expression {
  /** Where it comes from, for failure messages: "docs/metrics.md #2", "dashboard: Latency …". */
  where: string;
  expr: string;
}

export const ALERTS_FILE = 'config/prometheus/alerts.yaml';
export const DASHBOARD_FILE = 'config/grafana/switchyard.json';

/** A block's expressions: an unindented line starts one, indented lines continue it. */
export function docExpressions(dir = 'docs'): Expression[] {
  const out: Expression[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort()) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const block of text.matchAll(/```promql\n([\s\S]*?)```/g)) {
      const exprs: string[] = [];
      for (const line of (block[1] ?? '').split('\n')) {
        if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
        if (/^\s/.test(line) && exprs.length) exprs[exprs.length - 1] += '\n' + line;
        else exprs.push(line);
      }
      for (const expr of exprs) out.push({ where: `${dir}/${file} #${out.length + 1}`, expr });
    }
  }
  return out;
}

interface Dashboard {
  panels: { title: string; targets?: { expr: string }[] }[];
  templating?: { list: { name: string; type: string; allValue?: string }[] };
}

/**
 * The dashboard's target expressions with Grafana's variables replaced as Grafana would for
 * "All": a template variable by its allValue, the interval variables by durations.
 */
export function dashboardExpressions(file = DASHBOARD_FILE): Expression[] {
  const dash = JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
  const values: Record<string, string> = { __rate_interval: '1m', __interval: '15s', __range: '1h' };
  for (const v of dash.templating?.list ?? []) if (v.type !== 'datasource') values[v.name] = v.allValue ?? '.*';
  return dash.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      where: `dashboard: ${p.title}`,
      // An unknown variable stays as it is, and Prometheus rejects the `$`.
      expr: t.expr.replace(/\$\{?(\w+)\}?/g, (m: string, name: string) => values[name] ?? m),
    })),
  );
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function alertRules(file = ALERTS_FILE): { group: string; rule: AlertRule }[] {
  const doc = parse(readFileSync(file, 'utf8')) as { groups: { name: string; rules: AlertRule[] }[] };
  return doc.groups.flatMap((g) => g.rules.map((rule) => ({ group: g.name, rule })));
}

export function alertExpressions(file = ALERTS_FILE): Expression[] {
  return alertRules(file).map(({ rule }) => ({ where: `${file}: ${rule.alert} (${rule.labels?.severity ?? '?'})`, expr: rule.expr }));
}

export const allExpressions = (): Expression[] => [...docExpressions(), ...dashboardExpressions(), ...alertExpressions()];

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan']);

/**
 * The metric names an expression selects. Strings, label matchers, ranges and label lists are
 * cut out first; what is left that is neither a function call, a keyword nor part of a number is
 * a metric name.
 */
export function metricNamesIn(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/#.*$/gm, '')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ')
    .replace(/\boffset\s+-?\w+/gi, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(/(?<![\w.:])[a-zA-Z_:][\w:]*/g)) {
    if (KEYWORDS.has(m[0].toLowerCase())) continue;
    if (
      s
        .slice(m.index + m[0].length)
        .trimStart()
        .startsWith('(')
    )
      continue;
    names.add(m[0]);
  }
  return [...names];
}

/** Every series name the gateway exports: the catalogue and prom-client's process metrics, with histogram suffixes. */
export async function exportedNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const m of await createMetrics().registry.getMetricsAsJSON()) {
    const type = String(m.type);
    names.add(m.name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_count', '_sum']) names.add(m.name + suffix);
    if (type === 'summary') for (const suffix of ['_count', '_sum']) names.add(m.name + suffix);
  }
  return names;
}

/** "where: name" for every metric name of these expressions that the gateway does not export. */
export async function unknownMetricNames(exprs: Expression[]): Promise<string[]> {
  const known = await exportedNames();
  return exprs.flatMap((e) =>
    metricNamesIn(e.expr)
      .filter((n) => !known.has(n))
      .map((n) => `${e.where}: ${n}`),
  );
}
