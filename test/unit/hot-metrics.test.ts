import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HotCounter, HotGauge, HotHistogram } from '../../src/metrics/hot-metrics.js';

describe('hot-path metrics', () => {
  it('expose exactly what prom-client would for the same updates', async () => {
    const a = new Registry();
    const b = new Registry();
    const buckets = [0.001, 0.01, 0.1, 1];
    const pc = new Counter({ name: 'x_total', help: 'h', labelNames: ['route', 'code'], registers: [a] });
    const ph = new Histogram({ name: 'x_seconds', help: 'h', labelNames: ['route'], buckets, registers: [a] });
    const hc = new HotCounter('x_total', 'h', ['route', 'code'] as const).register(b);
    const hh = new HotHistogram('x_seconds', 'h', ['route'] as const, buckets).register(b);
    const pg = new Gauge({ name: 'x_in_flight', help: 'h', aggregator: 'sum', registers: [a] });
    const hg = new HotGauge('x_in_flight', 'h', 'sum').register(b);
    // Before any update, too: a gauge without labels reads 0.
    expect(await b.metrics()).toBe(await a.metrics());
    const samples: [string, string, number][] = [
      ['a', '200', 0.0005],
      ['a', '200', 0.02],
      ['b', '502', 3],
      ['a', '404', 0.001],
      ['b', '502', 0.1],
    ];
    for (const [route, code, v] of samples) {
      pc.inc({ route, code });
      hc.inc(route, code);
      ph.observe({ route }, v);
      hh.observe(v, route);
      pg.inc();
      hg.inc();
    }
    pg.dec();
    hg.dec();
    expect(await b.metrics()).toBe(await a.metrics());
    // The JSON the cluster aggregator reads, too (prom-client adds empty exemplar fields).
    const strip = (x: unknown) => JSON.parse(JSON.stringify(x, (k, v) => (k === 'exemplar' ? undefined : v)));
    expect(strip(await b.getMetricsAsJSON())).toEqual(strip(await a.getMetricsAsJSON()));
  });
});
