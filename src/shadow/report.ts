/**
 * The diff report of one gateway process, per route: comparisons, match rate, shadow error and
 * timeout rates, response times of each side, learned noise, and the differing fields with a
 * count and one (redacted) sample each, the two backends side by side. Served at GET /diffs,
 * printed by `switchyard diffs` and drawn by the console.
 *
 * Counts are kept twice: for the life of the process, and in one tally per minute for the last
 * day (only minutes with traffic exist), so that `?since=5m` reads a window. Memory is bounded
 * by the field caps below and by RETAIN_MINUTES.
 */
import { generalizeField, type FieldDiff } from '../diff/compare.js';
import { addHistogram, emptyHistogram, observe, summarize, type Histogram, type LatencySummary } from './latency.js';
import { requestSignature, severityOf, type Severity } from './severity.js';

export type Outcome = 'match' | 'mismatch' | 'noise' | 'shadow_error' | 'shadow_timeout' | 'skipped';
export const OUTCOMES: readonly Outcome[] = ['match', 'mismatch', 'noise', 'shadow_error', 'shadow_timeout', 'skipped'];

const MAX_FIELDS_PER_ROUTE = 100;
const MAX_FIELDS_PER_MINUTE = 50;
/** How far back a window can reach. */
export const RETAIN_MINUTES = 24 * 60;
const MINUTE = 60_000;

export interface FieldSample {
  request_id: string;
  method: string;
  path: string;
  /** Backend name → that backend's value; a backend whose answer lacks the field is absent here. */
  values: Record<string, unknown>;
  /** The backends compared, so that a missing value reads as absent on its side. */
  backends?: string[];
}

export interface FieldRow {
  field: string;
  /** status, header or body: the order `switchyard diffs` and the console sort by. */
  kind: Severity;
  count: number;
  /** XOR of the hashes of the requests that differed in this field: equal for fields with one cause. */
  requests_sig: number;
  sample: FieldSample;
}

interface FieldTally {
  count: number;
  sig: number;
}

interface Tally {
  results: Record<Outcome, number>;
  skippedReasons: Record<string, number>;
  dropped: number;
  fields: Map<string, FieldTally>;
  otherFields: number;
  latency: Map<string, Histogram>;
}

interface RouteStats {
  total: Tally;
  samples: Map<string, FieldSample>;
  minutes: Map<number, Tally>;
}

export interface RouteReport {
  route: string;
  /** Start of the window (ISO time), or null for the life of the process. */
  since: string | null;
  comparisons: number;
  match_rate: number | null;
  /** Shares of comparisons whose shadow copy failed or timed out; null without comparisons. */
  error_rate: number | null;
  timeout_rate: number | null;
  results: Record<Outcome, number>;
  skipped_reasons: Record<string, number>;
  dropped: number;
  noise_fields: string[];
  /** Backend → response times of that side of the comparisons. */
  latency_ms: Record<string, LatencySummary>;
  top_fields: FieldRow[];
  /** Distinct fields not listed in top_fields (cut by the limit). */
  more_fields: number;
  /** Differences not counted by field because the route already had too many distinct fields. */
  other_fields: number;
}

function emptyTally(): Tally {
  return { results: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>, skippedReasons: {}, dropped: 0, fields: new Map(), otherFields: 0, latency: new Map() };
}

function rate(n: number, of: number): number | null {
  return of ? Math.round((n / of) * 10_000) / 10_000 : null;
}

/** Comparisons and rates from result counts (noise-only answers count as matches). */
function summary(results: Record<Outcome, number>) {
  const compared = results.match + results.mismatch + results.noise;
  const comparisons = compared + results.shadow_error + results.shadow_timeout;
  return {
    comparisons,
    match_rate: rate(results.match + results.noise, compared),
    error_rate: rate(results.shadow_error, comparisons),
    timeout_rate: rate(results.shadow_timeout, comparisons),
  };
}

/** Status rows first, then headers, then body fields; by count within each. */
export function bySeverity(a: Pick<FieldRow, 'kind' | 'count' | 'field'>, b: Pick<FieldRow, 'kind' | 'count' | 'field'>): number {
  const rank = (k: Severity) => (k === 'status' ? 0 : k === 'header' ? 1 : 2);
  return rank(a.kind) - rank(b.kind) || b.count - a.count || a.field.localeCompare(b.field);
}

function addTally(into: Tally, t: Tally): void {
  for (const o of OUTCOMES) into.results[o] += t.results[o];
  for (const [k, v] of Object.entries(t.skippedReasons)) into.skippedReasons[k] = (into.skippedReasons[k] ?? 0) + v;
  into.dropped += t.dropped;
  into.otherFields += t.otherFields;
  for (const [f, v] of t.fields) {
    const cur = into.fields.get(f);
    if (cur) {
      cur.count += v.count;
      cur.sig = (cur.sig ^ v.sig) >>> 0;
    } else into.fields.set(f, { ...v });
  }
  for (const [b, h] of t.latency) {
    let cur = into.latency.get(b);
    if (!cur) into.latency.set(b, (cur = emptyHistogram()));
    addHistogram(cur, h);
  }
}

export class DiffReport {
  private readonly routes = new Map<string, RouteStats>();

  constructor(private readonly now: () => number = Date.now) {}

  private stats(route: string): RouteStats {
    let s = this.routes.get(route);
    if (!s) this.routes.set(route, (s = { total: emptyTally(), samples: new Map(), minutes: new Map() }));
    return s;
  }

  /** The lifetime tally and this minute's tally of a route. */
  private tallies(route: string): [Tally, Tally, RouteStats] {
    const s = this.stats(route);
    const minute = Math.floor(this.now() / MINUTE);
    let m = s.minutes.get(minute);
    if (!m) {
      s.minutes.set(minute, (m = emptyTally()));
      // Minutes are inserted in order: the oldest come first.
      for (const k of s.minutes.keys()) {
        if (k > minute - RETAIN_MINUTES) break;
        s.minutes.delete(k);
      }
    }
    return [s.total, m, s];
  }

  record(route: string, outcome: Outcome, reason?: string): void {
    for (const t of this.tallies(route).slice(0, 2) as Tally[]) {
      t.results[outcome]++;
      if (outcome === 'skipped' && reason) t.skippedReasons[reason] = (t.skippedReasons[reason] ?? 0) + 1;
    }
  }

  dropped(route: string): void {
    for (const t of this.tallies(route).slice(0, 2) as Tally[]) t.dropped++;
  }

  /** One answer's response time, by the backend that gave it. */
  latency(route: string, backend: string, ms: number): void {
    for (const t of this.tallies(route).slice(0, 2) as Tally[]) {
      let h = t.latency.get(backend);
      if (!h) t.latency.set(backend, (h = emptyHistogram()));
      observe(h, ms);
    }
  }

  /** Counts each differing field (generalized) of one comparison and keeps the first sample of each. */
  fields(route: string, requestId: string, diffs: readonly FieldDiff[], sample: (d: FieldDiff) => FieldSample): void {
    const [total, minute, s] = this.tallies(route);
    const sig = requestSignature(requestId);
    const seen = new Set<string>();
    for (const d of diffs) {
      const field = generalizeField(d.field);
      const first = !seen.has(field);
      seen.add(field);
      for (const [t, cap] of [
        [total, MAX_FIELDS_PER_ROUTE],
        [minute, MAX_FIELDS_PER_MINUTE],
      ] as const) {
        const f = t.fields.get(field);
        if (f) {
          f.count++;
          if (first) f.sig = (f.sig ^ sig) >>> 0;
        } else if (t.fields.size < cap) t.fields.set(field, { count: 1, sig });
        else t.otherFields++;
      }
      if (!s.samples.has(field) && s.samples.size < MAX_FIELDS_PER_ROUTE) s.samples.set(field, sample(d));
    }
  }

  /** Routes' reports, over the life of the process or since `sinceMs` (epoch ms, minute resolution). */
  report(noiseFields: (route: string) => string[], route?: string, limit = 10, sinceMs?: number): RouteReport[] {
    const names = route ? (this.routes.has(route) ? [route] : []) : [...this.routes.keys()].sort();
    const fromMinute = sinceMs === undefined ? undefined : Math.floor(sinceMs / MINUTE);
    return names.map((name) => {
      const s = this.routes.get(name)!;
      let t = s.total;
      if (fromMinute !== undefined) {
        t = emptyTally();
        for (const [m, tally] of s.minutes) if (m >= fromMinute) addTally(t, tally);
      }
      const rows: FieldRow[] = [...t.fields.entries()].map(([field, f]) => ({
        field,
        kind: severityOf(field),
        count: f.count,
        requests_sig: f.sig,
        sample: s.samples.get(field) ?? { request_id: '', method: '', path: '', values: {} },
      }));
      rows.sort(bySeverity);
      return {
        route: name,
        since: fromMinute === undefined ? null : new Date(fromMinute * MINUTE).toISOString(),
        ...summary(t.results),
        results: { ...t.results },
        skipped_reasons: { ...t.skippedReasons },
        dropped: t.dropped,
        noise_fields: noiseFields(name),
        latency_ms: Object.fromEntries([...t.latency.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([b, h]) => [b, summarize(h)])),
        top_fields: rows.slice(0, limit),
        more_fields: Math.max(0, rows.length - limit),
        other_fields: t.otherFields,
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
      const fields = new Map<string, FieldRow>();
      for (const r of rs) {
        for (const f of r.top_fields) {
          const cur = fields.get(f.field);
          if (cur) {
            cur.count += f.count;
            cur.requests_sig = (cur.requests_sig ^ f.requests_sig) >>> 0;
          } else fields.set(f.field, { ...f });
        }
      }
      const latency = new Map<string, Histogram>();
      for (const r of rs) {
        for (const [b, l] of Object.entries(r.latency_ms ?? {})) {
          let h = latency.get(b);
          if (!h) latency.set(b, (h = emptyHistogram()));
          addHistogram(h, l.buckets);
        }
      }
      const rows = [...fields.values()].sort(bySeverity);
      return {
        route,
        since: rs[0]!.since,
        ...summary(results),
        results,
        skipped_reasons: skipped,
        dropped: rs.reduce((a, r) => a + r.dropped, 0),
        noise_fields: [...new Set(rs.flatMap((r) => r.noise_fields))].sort(),
        latency_ms: Object.fromEntries([...latency.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([b, h]) => [b, summarize(h)])),
        top_fields: rows.slice(0, limit),
        more_fields: Math.max(0, rows.length - limit) + Math.max(0, ...rs.map((r) => r.more_fields ?? 0)),
        other_fields: rs.reduce((a, r) => a + r.other_fields, 0),
      };
    });
}
