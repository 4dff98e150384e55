import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';
import { createMetrics } from '../../src/metrics/catalogue.js';

function tableRows(file: string): string[][] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| name') && !l.startsWith('| code') && !l.startsWith('|---'))
    .map((l) =>
      l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim().replace(/`/g, '')),
    );
}

describe('metric catalogue', () => {
  it('matches docs/metrics.md: names, types and labels', async () => {
    const m = createMetrics({ processMetrics: false });
    const code = (await m.registry.getMetricsAsJSON()).map((x) => {
      const labels = (m.registry.getSingleMetric(x.name) as unknown as { labelNames: string[] }).labelNames;
      return [x.name, x.type, [...labels].join(', ')];
    });
    const doc = tableRows('docs/metrics.md').map((r) => [r[0], r[1], r[2]]);
    expect(doc.sort()).toEqual(code.sort());
  });

  it('declares how --workers merges each metric, as docs/metrics.md says', async () => {
    const m = createMetrics({ processMetrics: false });
    const code = (await m.registry.getMetricsAsJSON()).map((x) => [x.name, x.aggregator]);
    const doc = tableRows('docs/metrics.md').map((r) => [r[0], r[3]]);
    expect(doc.sort()).toEqual(code.sort());
    // Gauges whose value is the same in every worker must not add up (issue 13).
    const agg = Object.fromEntries(code);
    for (const name of [
      'switchyard_rules_version',
      'switchyard_rules_source',
      'switchyard_route_weight',
      'switchyard_rules_redis_connected',
      'switchyard_backend_host_healthy',
    ]) {
      expect(agg[name], name).not.toBe('sum');
    }
  });

  it('follows Prometheus naming', async () => {
    const m = createMetrics({ processMetrics: false });
    for (const x of await m.registry.getMetricsAsJSON()) {
      expect(x.name).toMatch(/^switchyard_[a-z_]+$/);
      if (String(x.type) === 'counter') expect(x.name).toMatch(/_total$/);
      if (String(x.type) === 'histogram') expect(x.name).toMatch(/_seconds$/);
    }
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('error catalogue', () => {
  it('holds every SWY_ code written anywhere in src/, and docs/errors.md lists each', () => {
    const codes = new Set(Object.values(ERRORS).map((e) => e.code));
    const documented = new Set(tableRows('docs/errors.md').map((r) => r[0]));
    const found = new Set<string>();
    for (const f of sourceFiles('src')) for (const m of readFileSync(f, 'utf8').matchAll(/SWY_[A-Z0-9_]+/g)) found.add(m[0]);
    expect(found.size).toBeGreaterThan(0);
    expect([...found].filter((c) => !codes.has(c))).toEqual([]);
    expect([...codes].filter((c) => !documented.has(c))).toEqual([]);
  });

  it('has unique codes, and statuses that are HTTP error statuses', () => {
    const all = Object.values(ERRORS);
    expect(new Set(all.map((e) => e.code)).size).toBe(all.length);
    for (const e of all) expect(e.status >= 400 && e.status <= 599, e.code).toBe(true);
  });

  it('matches docs/errors.md: codes, statuses and reasons', () => {
    const doc = tableRows('docs/errors.md').map((r) => [r[0], Number(r[1]), r[2]]);
    const code = Object.values(ERRORS).map((e) => [e.code, e.status, e.reason]);
    expect(doc).toEqual(code);
  });
});
