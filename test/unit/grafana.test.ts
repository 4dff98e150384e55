import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/catalogue.js';

describe('Grafana dashboard', () => {
  const dash = JSON.parse(readFileSync('config/grafana/switchyard.json', 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
  const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr));

  it('queries only metrics the catalogue declares', async () => {
    const declared = new Set((await createMetrics({ processMetrics: false }).registry.getMetricsAsJSON()).map((m) => m.name));
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/switchyard_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, ''))));
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) expect(declared.has(name), name).toBe(true);
  });

  it('has the panels operators watch during a cutover', () => {
    const titles = dash.panels.map((p) => p.title).join('\n');
    for (const t of [/Configured split/, /Actual split/, /Latency per backend/, /Error rate/, /Shadow match rate/, /Top differing fields/, /Rule set version/])
      expect(titles).toMatch(t);
  });
});
