/**
 * The diff report of one gateway process, per route: comparisons, match rate, learned noise,
 * and the top differing fields with a count and one (redacted) sample each, the two backends
 * side by side. Served at GET /diffs and printed by `switchyard diffs`.
 */
import { generalizeField, type FieldDiff } from '../diff/compare.js';

export type Outcome = 'match' | 'mismatch' | 'noise' | 'shadow_error' | 'shadow_timeout' | 'skipped';
export const OUTCOMES: readonly Outcome[] = ['match', 'mismatch', 'noise', 'shadow_error', 'shadow_timeout', 'skipped'];

const MAX_FIELDS_PER_ROUTE = 100;

export interface FieldSample {
  request_id: string;
  method: string;
  path: string;
  /** Backend name → that backend's value. */
  values: Record<string, unknown>;
}

interface FieldStats {
  count: number;
  sample: FieldSample;
}

interface RouteStats {
  results: Record<Outcome, number>;
  skippedReasons: Record<string, number>;
  dropped: number;
  fields: Map<string, FieldStats>;
  otherFields: number;
}

export interface RouteReport {
  route: string;
  comparisons: number;
  match_rate: number | null;
  results: Record<Outcome, number>;
  skipped_reasons: Record<string, number>;
  dropped: number;
  noise_fields: string[];
  top_fields: { field: string; count: number; sample: FieldSample }[];
  other_fields: number;
}

/** Comparisons and match rate from result counts (noise-only answers count as matches). */
export function summary(results: Record<Outcome, number>): { comparisons: number; match_rate: number | null } {
  const compared = results.match + results.mismatch + results.noise;
  return {
    comparisons: compared + results.shadow_error + results.shadow_timeout,
    match_rate: compared ? Math.round(((results.match + results.noise) / compared) * 10_000) / 10_000 : null,
  };
}

export class DiffReport {
  private readonly routes = new Map<string, RouteStats>();

  private stats(route: string): RouteStats {
    let s = this.routes.get(route);
    if (!s) {
      s = { results: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>, skippedReasons: {}, dropped: 0, fields: new Map(), otherFields: 0 };
      this.routes.set(route, s);
    }
    return s;
  }

  record(route: string, outcome: Outcome, reason?: string): void {
    const s = this.stats(route);
    s.results[outcome]++;
    if (outcome === 'skipped' && reason) s.skippedReasons[reason] = (s.skippedReasons[reason] ?? 0) + 1;
  }

  dropped(route: string): void {
    this.stats(route).dropped++;
  }

  /** Counts each differing field (generalized) and keeps the first sample of each. */
  fields(route: string, diffs: readonly FieldDiff[], sample: (d: FieldDiff) => FieldSample): void {
    const s = this.stats(route);
    for (const d of diffs) {
      const field = generalizeField(d.field);
      const f = s.fields.get(field);
      if (f) f.count++;
      else if (s.fields.size < MAX_FIELDS_PER_ROUTE) s.fields.set(field, { count: 1, sample: sample(d) });
      else s.otherFields++;
    }
  }

  report(noiseFields: (route: string) => string[], route?: string, limit = 10): RouteReport[] {
    const names = route ? (this.routes.has(route) ? [route] : []) : [...this.routes.keys()].sort();
    return names.map((name) => {
      const s = this.routes.get(name)!;
      return {
        route: name,
        ...summary(s.results),
        results: { ...s.results },
        skipped_reasons: { ...s.skippedReasons },
        dropped: s.dropped,
        noise_fields: noiseFields(name),
        top_fields: [...s.fields.entries()]
          .sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]))
          .slice(0, limit)
          .map(([field, f]) => ({ field, count: f.count, sample: f.sample })),
        other_fields: s.otherFields,
      };
    });
  }
}

/** Merges the reports of several processes (the workers of one gateway) route by route. */
export function mergeReports(lists: readonly RouteReport[][], limit = 10): RouteReport[] {
  const byRoute = new Map<string, RouteReport[]>();
  for (const list of lists) for (const r of list) byRoute.set(r.route, [...(byRoute.get(r.route) ?? []), r]);
  return [...byRoute.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([route, rs]) => {
      const results = Object.fromEntries(OUTCOMES.map((o) => [o, rs.reduce((a, r) => a + r.results[o], 0)])) as Record<Outcome, number>;
      const skipped: Record<string, number> = {};
      for (const r of rs) for (const [k, v] of Object.entries(r.skipped_reasons)) skipped[k] = (skipped[k] ?? 0) + v;
      const fields = new Map<string, { field: string; count: number; sample: FieldSample }>();
      for (const r of rs) {
        for (const f of r.top_fields) {
          const cur = fields.get(f.field);
          if (cur) cur.count += f.count;
          else fields.set(f.field, { ...f });
        }
      }
      return {
        route,
        ...summary(results),
        results,
        skipped_reasons: skipped,
        dropped: rs.reduce((a, r) => a + r.dropped, 0),
        noise_fields: [...new Set(rs.flatMap((r) => r.noise_fields))].sort(),
        top_fields: [...fields.values()].sort((a, b) => b.count - a.count || a.field.localeCompare(b.field)).slice(0, limit),
        other_fields: rs.reduce((a, r) => a + r.other_fields, 0),
      };
    });
}
