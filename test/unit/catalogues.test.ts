import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/catalogue.js';
import { ERRORS } from '../../src/errors.js';

function tableRows(file: string): string[][] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| name') && !l.startsWith('| code') && !l.startsWith('|---'))
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim().replace(/`/g, '')));
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

  it('follows Prometheus naming', async () => {
    const m = createMetrics({ processMetrics: false });
    for (const x of await m.registry.getMetricsAsJSON()) {
      expect(x.name).toMatch(/^switchyard_[a-z_]+$/);
      if (x.type === 'counter') expect(x.name).toMatch(/_total$/);
      if (x.type === 'histogram') expect(x.name).toMatch(/_seconds$/);
    }
  });
});

describe('error catalogue', () => {
  it('matches docs/errors.md: codes, statuses and reasons', () => {
    const doc = tableRows('docs/errors.md').map((r) => [r[0], Number(r[1]), r[2]]);
    const code = Object.values(ERRORS).map((e) => [e.code, e.status, e.reason]);
    expect(doc).toEqual(code);
  });
});
