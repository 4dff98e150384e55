/**
 * `switchyard diffs [--since 10m] [--route NAME] [--limit N] [--json] [--admin URL] [--config FILE]`:
 * the shadow diff report of a running gateway, read from its admin listener (GET /diffs). With
 * --since, the whole fleet's comparisons by result in that window (from the rollout evidence).
 */
import { parseArgs } from 'node:util';
import { request } from 'undici';
import type { RouteReport } from '../shadow/report.js';
import type { WindowReport } from '../rollout/windowed-diffs.js';
import { adminUrl, defaultConfigPath, loadConfigOrExit, printJson } from './common.js';

export const DIFFS_USAGE = 'switchyard diffs [--since 10m] [--route NAME] [--limit N] [--json] [--admin URL] [--config FILE]';

function pct(x: number | null): string {
  return x === null ? '-' : `${(x * 100).toFixed(1)}%`;
}

function short(v: unknown): string {
  const s = v === undefined ? '(absent)' : typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

export async function diffsCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      route: { type: 'string' },
      since: { type: 'string' },
      limit: { type: 'string', default: '10' },
      json: { type: 'boolean', default: false },
      admin: { type: 'string' },
      config: { type: 'string', short: 'c' },
    },
  });
  const base = values.admin ?? adminUrl(loadConfigOrExit(defaultConfigPath(values.config)).admin.listen);
  const url = new URL('/diffs', base);
  if (values.route) url.searchParams.set('route', values.route);
  url.searchParams.set('limit', values.limit);
  if (values.since) return windowCommand(url, values.since, values.route, values.json);
  const res = await request(url);
  const body = (await res.body.json()) as { routes: RouteReport[] };
  if (values.json) {
    printJson(body);
    return 0;
  }
  if (body.routes.length === 0) {
    process.stdout.write(values.route ? `no comparisons for route ${values.route} yet\n` : 'no comparisons yet\n');
    return 0;
  }
  for (const r of body.routes) {
    const res = r.results;
    process.stdout.write(
      `route ${r.route}: ${r.comparisons} comparisons, match rate ${pct(r.match_rate)} ` +
        `(match ${res.match}, mismatch ${res.mismatch}, noise ${res.noise}, shadow errors ${res.shadow_error}, timeouts ${res.shadow_timeout}, skipped ${res.skipped}, dropped ${r.dropped})\n`,
    );
    if (r.noise_fields.length) process.stdout.write(`  noise: ${r.noise_fields.join(', ')}\n`);
    for (const f of r.top_fields) {
      const sides = Object.entries(f.sample.values)
        .map(([backend, v]) => `${backend}=${short(v)}`)
        .join('  ');
      process.stdout.write(`  ${String(f.count).padStart(6)}  ${f.field}    e.g. ${f.sample.method} ${f.sample.path}: ${sides}\n`);
    }
  }
  return 0;
}

async function windowCommand(url: URL, since: string, route: string | undefined, json: boolean): Promise<number> {
  url.searchParams.set('since', since);
  const res = await request(url);
  const body = (await res.body.json()) as { routes?: WindowReport[]; since?: string; error?: string };
  if (res.statusCode !== 200) {
    process.stderr.write(`switchyard: ${body.error ?? `admin listener answered ${res.statusCode}`}\n`);
    return 1;
  }
  const routes = body.routes!.filter((r) => !route || r.route === route);
  if (json) {
    printJson({ since: body.since, routes });
    return 0;
  }
  if (routes.length === 0) process.stdout.write(`no comparisons since ${body.since}\n`);
  for (const r of routes) {
    const x = r.results;
    process.stdout.write(
      `route ${r.route} since ${body.since}: ${r.comparisons} comparisons, match rate ${pct(r.match_rate)} ` +
        `(match ${x.match}, mismatch ${x.mismatch}, noise ${x.noise}, shadow errors ${x.shadow_error}, timeouts ${x.shadow_timeout}, skipped ${x.skipped})\n`,
    );
  }
  return 0;
}
