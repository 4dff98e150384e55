/**
 * The console's overview, rendered on the server from the JSON the admin API serves: rollouts
 * (when there are any), every route with its configured and actual split, comparisons, match
 * rate, shadow error and timeout rates, p50/p99 of each side, learned noise, and the fields that
 * differ most, each linking to its stored samples.
 */
import type { RouteReport } from '../shadow/report.js';
import { esc, page } from './console-html.js';

export interface ConfiguredRoute {
  route: string;
  split: Record<string, number>;
  sticky: string | null;
  shadow: { percent: number; to: string | null } | null;
}

export interface RolloutView {
  route: string;
  state?: string;
  step?: number;
  steps?: number[];
  percent?: number;
  time_at_step?: string;
  [k: string]: unknown;
}

export interface Overview {
  version: number | string | null;
  window: string;
  windows: { key: string; label: string }[];
  routes: ConfiguredRoute[];
  /** Route → backend → requests placed there (switchyard_route_placements_total). */
  placements: Map<string, Map<string, number>>;
  diffs: RouteReport[];
  rollouts: RolloutView[];
  csrf: string;
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(x * 100).toFixed(1)}%`);

function value(v: unknown, present: boolean): string {
  if (!present) return '<span class="absent">absent</span>';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return esc(s.length > 80 ? s.slice(0, 77) + '...' : s);
}

function splitText(split: Record<string, number>): string {
  return Object.entries(split)
    .map(([b, p]) => `${esc(b)} ${p}%`)
    .join(', ');
}

function actualText(counts: Map<string, number> | undefined, backends: string[]): string {
  const total = counts ? [...counts.values()].reduce((a, b) => a + b, 0) : 0;
  if (!total) return '<span class="muted">no requests yet</span>';
  return backends.map((b) => `${esc(b)} ${(((counts!.get(b) ?? 0) / total) * 100).toFixed(1)}%`).join(', ') + ` <span class="muted">(${total})</span>`;
}

function rolloutSection(o: Overview): string {
  if (!o.rollouts.length) return '';
  const rows = o.rollouts.map((r) => {
    const buttons = ['pause', 'resume', 'promote', 'abort']
      .map((a) => `<form method="post" action="/ui/rollouts" class="act"><input type="hidden" name="csrf" value="${esc(o.csrf)}"><input type="hidden" name="route" value="${esc(r.route)}"><input type="hidden" name="action" value="${a}"><button>${a}</button></form>`)
      .join('');
    const gates = Object.entries(r).filter(([k]) => /gate|breach|reason|verdict/.test(k)).map(([k, v]) => `${esc(k)}: ${esc(typeof v === 'string' ? v : JSON.stringify(v))}`).join('<br>');
    return `<tr><td>${esc(r.route)}</td><td>${esc(r.state ?? '-')}</td><td class="num">${esc(r.step ?? '-')}${r.steps ? ` of ${r.steps.length} (${esc(r.steps.join(' → '))})` : ''}</td><td class="num">${esc(r.percent ?? '-')}%</td><td>${esc(r.time_at_step ?? '-')}</td><td>${gates}</td><td>${buttons}</td></tr>`;
  });
  return `<h2>Rollouts</h2><table id="rollouts"><tr><th>route</th><th>state</th><th>step</th><th>share</th><th>time at step</th><th>gates</th><th>actions</th></tr>${rows.join('')}</table>`;
}

/** Fields of one route whose differences came from exactly the same requests get one cause label. */
function causes(r: RouteReport): Map<string, string> {
  const groups = new Map<string, string[]>();
  for (const f of r.top_fields) {
    const k = `${f.count}:${f.requests_sig}`;
    groups.set(k, [...(groups.get(k) ?? []), f.field]);
  }
  const out = new Map<string, string>();
  let n = 0;
  for (const fields of groups.values()) {
    if (fields.length < 2) continue;
    const label = `cause ${String.fromCharCode(65 + n++)}`;
    for (const f of fields) out.set(f, `${label} (${fields.length} fields, same requests)`);
  }
  return out;
}

function fieldsSection(r: RouteReport, backends: string[]): string {
  if (!r.top_fields.length) return '';
  const cause = causes(r);
  const rows = r.top_fields.map((f) => {
    const sides = f.sample.backends ?? backends;
    const cells = sides.map((b) => `<td>${value(f.sample.values[b], b in f.sample.values)}</td>`).join('');
    const link = `/ui/samples?route=${encodeURIComponent(r.route)}&amp;field=${encodeURIComponent(f.field)}`;
    return `<tr data-field="${esc(f.field)}"><td><a href="${link}">${esc(f.field)}</a></td><td>${f.kind}</td><td class="num">${f.count}</td>${cells}<td class="muted">${esc(cause.get(f.field) ?? '')}</td></tr>`;
  });
  const head = (r.top_fields[0]?.sample.backends ?? backends).map((b) => `<th>${esc(b)} (e.g.)</th>`).join('');
  const more = r.more_fields ? `<p class="muted">${r.more_fields} more fields</p>` : '';
  return `<h3>Fields that differ on ${esc(r.route)}</h3><table class="fields" data-route="${esc(r.route)}"><tr><th>field</th><th>kind</th><th>count</th>${head}<th>cause</th></tr>${rows.join('')}</table>${more}`;
}

export function renderOverview(o: Overview): string {
  const byRoute = new Map(o.diffs.map((d) => [d.route, d]));
  const windows = o.windows.map((w) => (w.key === o.window ? `<b>${esc(w.label)}</b>` : `<a href="/ui?window=${encodeURIComponent(w.key)}">${esc(w.label)}</a>`)).join('');
  const rows = o.routes.map((c) => {
    const d = byRoute.get(c.route);
    const backends = Object.keys(c.split);
    const lat = d
      ? Object.entries(d.latency_ms)
          .map(([b, l]) => `${esc(b)} ${l.p50 ?? '-'} / ${l.p99 ?? '-'} ms`)
          .join('<br>')
      : '';
    const rateClass = d && d.match_rate !== null && d.match_rate < 1 ? 'bad' : 'ok';
    return (
      `<tr data-route="${esc(c.route)}"><td>${esc(c.route)}</td><td>${splitText(c.split)}</td><td>${actualText(o.placements.get(c.route), backends)}</td>` +
      `<td>${c.shadow ? `${c.shadow.percent}%${c.shadow.to ? ` to ${esc(c.shadow.to)}` : ''}` : '<span class="muted">off</span>'}</td>` +
      `<td class="num" data-k="comparisons">${d?.comparisons ?? 0}</td><td class="num ${rateClass}" data-k="match_rate">${pct(d?.match_rate)}</td>` +
      `<td class="num" data-k="error_rate">${pct(d?.error_rate)}</td><td class="num" data-k="timeout_rate">${pct(d?.timeout_rate)}</td>` +
      `<td>${lat || '<span class="muted">-</span>'}</td><td>${d?.noise_fields.length ? esc(d.noise_fields.join(', ')) : '<span class="muted">none</span>'}</td></tr>`
    );
  });
  const fields = o.routes.map((c) => (byRoute.get(c.route) ? fieldsSection(byRoute.get(c.route)!, Object.keys(c.split)) : '')).join('');
  const refresh = `/ui/api/diffs?window=${encodeURIComponent(o.window)}`;
  return page(
    'switchyard console',
    `<header><b>switchyard console</b><span>rules version ${esc(o.version ?? '-')}</span><span class="win">window: ${windows}</span><span class="muted" data-refresh="${esc(refresh)}"></span>` +
      `<form method="post" action="/ui/logout"><input type="hidden" name="csrf" value="${esc(o.csrf)}"><button>log out</button></form></header><main>` +
      rolloutSection(o) +
      `<h2>Routes</h2><table id="routes"><tr><th>route</th><th>configured split</th><th>actual split (since start)</th><th>shadow</th><th>comparisons</th><th>match rate</th><th>shadow errors</th><th>timeouts</th><th>p50 / p99 per side</th><th>noise fields (learned)</th></tr>${rows.join('')}</table>` +
      fields +
      `</main>`,
  );
}
