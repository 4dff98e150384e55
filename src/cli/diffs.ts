/**
 * `switchyard diffs [--route NAME] [--limit N] [--json] [--admin URL] [--token TOKEN] [--config FILE]`:
 * the shadow diff report of a running gateway, read from its admin listener (GET /diffs, which
 * needs the admin token: --token, else SWITCHYARD_ADMIN_TOKEN, else admin.token of the config).
 */
import { parseArgs } from 'node:util';
import type { RouteReport } from '../shadow/report.js';
import { localUrl } from '../config/listen-address.js';
import { adminGet } from './admin-client.js';
import { defaultConfigPath, loadConfigOrExit, printJson } from './common.js';

export const DIFFS_USAGE = 'switchyard diffs [--route NAME] [--limit N] [--json] [--admin URL] [--token TOKEN] [--config FILE]';

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
      limit: { type: 'string', default: '10' },
      json: { type: 'boolean', default: false },
      admin: { type: 'string' },
      token: { type: 'string' },
      config: { type: 'string', short: 'c' },
    },
  });
  const token = values.token ?? (process.env.SWITCHYARD_ADMIN_TOKEN || undefined);
  // The config is read for what the flags and the environment do not give: address or token.
  const config = values.admin && token !== undefined && !values.config ? undefined : loadConfigOrExit(defaultConfigPath(values.config));
  const url = new URL('/diffs', values.admin ?? localUrl(config!.admin.listen));
  if (values.route) url.searchParams.set('route', values.route);
  url.searchParams.set('limit', values.limit);
  const body = (await adminGet(url, token ?? config?.admin.token ?? '')) as { routes: RouteReport[] };
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
