/**
 * `/diffs` with --workers: each worker keeps its own DiffReport; the primary merges them route by
 * route (mergeReports). Built here from real DiffReports, as two workers would have them.
 */
import { describe, expect, it } from 'vitest';
import type { FieldDiff } from '../../src/diff/compare.js';
import { DiffReport, type FieldSample, mergeReports } from '../../src/shadow/report.js';

const sampleOf =
  (worker: string) =>
  (d: FieldDiff): FieldSample => ({ request_id: `${worker}-${d.field}`, method: 'GET', path: '/x', values: { legacy: d.a, pipeline: d.b } });
const diff = (field: string, a: unknown = 1, b: unknown = 2): FieldDiff => ({ field, kind: 'changed', a, b });
const noNoise = () => [];

function worker(_name: string, fill: (r: DiffReport) => void, noise: Record<string, string[]> = {}) {
  const r = new DiffReport();
  fill(r);
  return r.report((route) => noise[route] ?? noNoise());
}

describe('merging the diff reports of several workers', () => {
  const a = worker(
    'a',
    (r) => {
      for (let i = 0; i < 3; i++) r.record('catalog', 'match');
      r.record('catalog', 'mismatch');
      r.fields('catalog', 'a-1', [diff('/price', 9.99, 10.99), diff('/name')], sampleOf('a'));
      r.record('catalog', 'skipped', 'method');
      r.dropped('catalog');
      r.record('search', 'shadow_timeout');
    },
    { catalog: ['/meta/generated_at'] },
  );
  const b = worker(
    'b',
    (r) => {
      r.record('catalog', 'match');
      r.record('catalog', 'mismatch');
      r.record('catalog', 'noise');
      r.fields('catalog', 'b-1', [diff('/price', 5, 6)], sampleOf('b'));
      r.record('catalog', 'skipped', 'method');
      r.record('catalog', 'skipped', 'body_too_large');
      r.dropped('catalog');
      r.dropped('catalog');
      r.record('admin', 'shadow_error');
    },
    { catalog: ['/meta/generated_at', '/nonce'] },
  );
  const merged = mergeReports([a, b]);
  const route = (name: string) => merged.find((r) => r.route === name)!;

  it('lists every route of any worker once, sorted by name', () => {
    expect(merged.map((r) => r.route)).toEqual(['admin', 'catalog', 'search']);
  });

  it('adds the result counts, skip reasons and drops', () => {
    expect(route('catalog').results).toEqual({ match: 4, mismatch: 2, noise: 1, shadow_error: 0, shadow_timeout: 0, skipped: 3 });
    expect(route('catalog').skipped_reasons).toEqual({ method: 2, body_too_large: 1 });
    expect(route('catalog').dropped).toBe(3);
  });

  it('recomputes comparisons and match rate from the sums, not by averaging the rates', () => {
    // 7 compared (match 4 + mismatch 2 + noise 1), noise counting as a match: 5/7.
    expect(route('catalog')).toMatchObject({ comparisons: 7, match_rate: 0.7143 });
    expect(a.find((r) => r.route === 'catalog')!.match_rate).toBe(0.75);
    expect(b.find((r) => r.route === 'catalog')!.match_rate).toBe(0.6667);
    // Errors and timeouts are comparisons without a rate.
    expect(route('search')).toMatchObject({ comparisons: 1, match_rate: null });
    expect(route('admin')).toMatchObject({ comparisons: 1, match_rate: null });
  });

  it('adds the field counts, keeps the first worker’s sample, and orders by count then name', () => {
    expect(route('catalog').top_fields).toEqual([
      expect.objectContaining({
        field: '/price',
        count: 2,
        sample: { request_id: 'a-/price', method: 'GET', path: '/x', values: { legacy: 9.99, pipeline: 10.99 } },
      }),
      expect.objectContaining({ field: '/name', count: 1, sample: expect.objectContaining({ request_id: 'a-/name' }) }),
    ]);
  });

  it('unites the learned noise fields', () => {
    expect(route('catalog').noise_fields).toEqual(['/meta/generated_at', '/nonce']);
  });

  it('keeps the top `limit` fields and the count of those past the per-worker cap', () => {
    const many = (w: string, fields: string[]) =>
      worker(w, (r) =>
        r.fields(
          'r',
          `${w}-1`,
          fields.map((f) => diff(f)),
          sampleOf(w),
        ),
      );
    const m = mergeReports([many('a', ['/a', '/b', '/c']), many('b', ['/c', '/d'])], 2);
    expect(m[0]!.top_fields.map((f) => [f.field, f.count])).toEqual([
      ['/c', 2],
      ['/a', 1],
    ]);
    expect(m[0]!.more_fields).toBe(2); // /b and /d
    const overCap = worker('a', (r) =>
      r.fields(
        'r',
        'a-1',
        Array.from({ length: 105 }, (_, i) => diff(`/f${i}`)),
        sampleOf('a'),
      ),
    );
    expect(overCap[0]!.other_fields).toBe(5);
    expect(mergeReports([overCap, overCap])[0]!.other_fields).toBe(10);
  });

  it('is the report itself for one worker, and empty for none', () => {
    expect(mergeReports([a])).toEqual(a);
    expect(mergeReports([])).toEqual([]);
    expect(mergeReports([[], []])).toEqual([]);
  });
});
