/**
 * The text of `switchyard diffs`: per route, comparisons with the match rate beside the shadow
 * error and timeout rates, p50/p99 of each side, learned noise, then the differing fields by
 * severity (status, headers, body), fields that differed on the same requests folded into one
 * cause, both sides' values with "absent" where a side lacks the field, and "N more fields" when
 * the limit cut rows.
 */
import { bySeverity, type FieldRow, type RouteReport } from '../shadow/report.js';

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(x * 100).toFixed(1)}%`);

function short(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

/** "legacy=403 pipeline=200", "legacy=\"nosniff\" pipeline=absent". */
export function sides(f: FieldRow, fallback: string[]): string {
  const names = f.sample.backends ?? (Object.keys(f.sample.values).length ? Object.keys(f.sample.values) : fallback);
  return names.map((b) => `${b}=${b in f.sample.values ? short(f.sample.values[b]) : 'absent'}`).join('  ');
}

function rates(r: RouteReport): string {
  const res = r.results;
  const failed = res.shadow_error + res.shadow_timeout;
  const match = r.match_rate === null ? (failed ? `no answer compared (${failed} of ${r.comparisons} copies failed)` : 'match rate -') : `match rate ${pct(r.match_rate)}`;
  return `${r.comparisons} comparisons, ${match}, shadow errors ${pct(r.error_rate)}, timeouts ${pct(r.timeout_rate)}`;
}

export function renderRoute(r: RouteReport): string[] {
  const res = r.results;
  const lines = [
    `route ${r.route}${r.since ? ` since ${r.since}` : ''}: ${rates(r)}`,
    `  (match ${res.match}, mismatch ${res.mismatch}, noise ${res.noise}, shadow errors ${res.shadow_error}, timeouts ${res.shadow_timeout}, skipped ${res.skipped}, dropped ${r.dropped})`,
  ];
  const lat = Object.entries(r.latency_ms ?? {});
  if (lat.length) lines.push(`  latency p50/p99: ${lat.map(([b, l]) => `${b} ${l.p50 ?? '-'}/${l.p99 ?? '-'} ms`).join(', ')}`);
  if (r.noise_fields.length) lines.push(`  noise: ${r.noise_fields.join(', ')}`);
  const rows = [...r.top_fields].sort(bySeverity);
  const backends = Object.keys(r.latency_ms ?? {});
  // One line per cause: fields with the same count on the same requests differ for one reason.
  const byCause = new Map<string, FieldRow[]>();
  for (const f of rows) {
    const k = f.requests_sig === undefined ? f.field : `${f.count}:${f.requests_sig}`;
    byCause.set(k, [...(byCause.get(k) ?? []), f]);
  }
  const printed = new Set<string>();
  for (const f of rows) {
    if (printed.has(f.field)) continue;
    const group = byCause.get(f.requests_sig === undefined ? f.field : `${f.count}:${f.requests_sig}`) ?? [f];
    for (const g of group) printed.add(g.field);
    lines.push(`  ${String(f.count).padStart(6)}  ${f.field}    e.g. ${f.sample.method} ${f.sample.path}: ${sides(f, backends)}`);
    if (group.length > 1) {
      const rest = group.slice(1).map((g) => g.field);
      lines.push(`          + ${rest.length} more field${rest.length > 1 ? 's' : ''} on the same requests (one cause): ${rest.slice(0, 8).join(', ')}${rest.length > 8 ? ', ...' : ''}`);
    }
  }
  const more = (r.more_fields ?? 0) + r.other_fields;
  if (more) lines.push(`  ... ${more} more field${more > 1 ? 's' : ''} (--limit N to list more)`);
  return lines;
}
