/**
 * `switchyard diffs [--route NAME] [--limit N] [--since DURATION] [--json] [--admin URL] [--token TOKEN] [--config FILE]`:
 * the shadow diff report of a running gateway, read from its admin listener (GET /diffs, which
 * needs the admin token: --token, else SWITCHYARD_ADMIN_TOKEN, else admin.token of the config);
 * `switchyard diffs samples ...` prints the stored samples (diffs-samples.ts).
 */
import { parseArgs } from 'node:util';
import type { RouteReport } from '../shadow/report.js';
import { localUrl } from '../config/listen-address.js';
import { parseSince } from '../util/since.js';
import { adminGet } from './admin-client.js';
import { defaultConfigPath, loadConfigOrExit, printJson, UsageError } from './common.js';
import { renderRoute } from './diffs-render.js';
import { DIFFS_SAMPLES_USAGE, diffsSamplesCommand } from './diffs-samples.js';

export const DIFFS_USAGE = `switchyard diffs [--route NAME] [--limit N] [--since DURATION] [--json] [--admin URL] [--token TOKEN] [--config FILE]\n${DIFFS_SAMPLES_USAGE}`;

export async function diffsCommand(argv: string[]): Promise<number> {
  if (argv[0] === 'samples') return diffsSamplesCommand(argv.slice(1));
  const { values } = parseArgs({
    args: argv,
    options: {
      route: { type: 'string' },
      limit: { type: 'string', default: '10' },
      since: { type: 'string' },
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
  if (values.since !== undefined) {
    if (parseSince(values.since) === undefined) throw new UsageError(`--since expects a duration such as 10m or 1h, got ${JSON.stringify(values.since)}`);
    url.searchParams.set('since', values.since);
  }
  const body = (await adminGet(url, token ?? config?.admin.token ?? '')) as { routes: RouteReport[] };
  if (values.json) {
    printJson(body);
    return 0;
  }
  if (body.routes.length === 0) {
    process.stdout.write(values.route ? `no comparisons for route ${values.route} yet\n` : 'no comparisons yet\n');
    return 0;
  }
  process.stdout.write(body.routes.map((r) => renderRoute(r).join('\n')).join('\n') + '\n');
  return 0;
}
