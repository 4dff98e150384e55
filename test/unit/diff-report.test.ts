import { describe, expect, it } from 'vitest';
import { DiffReport, mergeReports } from '../../src/shadow/report.js';
import { quantile, emptyHistogram, observe } from '../../src/shadow/latency.js';

const noNoise = () => [];
const sample = (id: string) => () => ({ request_id: id, method: 'GET', path: '/x', values: {} });

describe('DiffReport', () => {
  it('lists a status difference before many body fields, and says how many rows were cut', () => {
    const r = new DiffReport();
    for (let i = 0; i < 15; i++) {
      r.record('web', 'mismatch');
      r.fields('web', `req-${i}`, Array.from({ length: 15 }, (_, f) => ({ field: `/f${f}`, kind: 'changed' as const, a: 1, b: 2 })), sample(`req-${i}`));
    }
    r.record('web', 'mismatch');
    r.fields('web', 'req-s', [{ field: 'status', kind: 'changed', a: 403, b: 200 }], sample('req-s'));
    const [rep] = r.report(noNoise, 'web', 10);
    expect(rep!.top_fields[0]).toMatchObject({ field: 'status', kind: 'status', count: 1 });
    expect(rep!.top_fields).toHaveLength(10);
    expect(rep!.more_fields).toBe(6);
  });

  it('gives fields that differed on the same requests the same signature', () => {
    const r = new DiffReport();
    for (const id of ['a', 'b', 'c']) r.fields('web', id, [{ field: '/x', kind: 'changed', a: 1, b: 2 }, { field: '/y', kind: 'changed', a: 1, b: 2 }], sample(id));
    r.fields('web', 'd', [{ field: '/z', kind: 'changed', a: 1, b: 2 }], sample('d'));
    const rows = r.report(noNoise, 'web')[0]!.top_fields;
    const sig = (f: string) => rows.find((x) => x.field === f)!.requests_sig;
    expect(sig('/x')).toBe(sig('/y'));
    expect(sig('/z')).not.toBe(sig('/x'));
  });

  it('reads a window from the per-minute tallies', () => {
    let now = Date.parse('2024-01-01T10:00:00Z');
    const r = new DiffReport(() => now);
    r.record('web', 'mismatch');
    r.fields('web', 'old', [{ field: '/old', kind: 'changed', a: 1, b: 2 }], sample('old'));
    now += 30 * 60_000;
    r.record('web', 'match');
    r.record('web', 'shadow_error');
    const [win] = r.report(noNoise, 'web', 10, now - 5 * 60_000);
    expect(win!.results).toMatchObject({ match: 1, mismatch: 0, shadow_error: 1 });
    expect(win!.top_fields).toEqual([]);
    expect(win!.error_rate).toBe(0.5);
    const [all] = r.report(noNoise, 'web');
    expect(all!.results).toMatchObject({ match: 1, mismatch: 1 });
    expect(all!.match_rate).toBe(0.5);
  });

  it('keeps p50/p99 per side and merges them across processes', () => {
    const a = new DiffReport();
    const b = new DiffReport();
    for (let i = 0; i < 98; i++) a.latency('web', 'legacy', 4);
    for (let i = 0; i < 2; i++) b.latency('web', 'legacy', 900);
    b.latency('web', 'pipeline', 12);
    const merged = mergeReports([a.report(noNoise), b.report(noNoise)]);
    expect(merged[0]!.latency_ms.legacy).toMatchObject({ count: 100, p50: 5, p99: 1000 });
    expect(merged[0]!.latency_ms.pipeline).toMatchObject({ count: 1, p50: 15, p99: 15 });
  });

  it('has no quantile without observations', () => {
    const h = emptyHistogram();
    expect(quantile(h, 0.5)).toBeNull();
    observe(h, 0.2);
    expect(quantile(h, 0.99)).toBe(1);
  });
});
