/**
 * `switchyard explain [--config FILE] [--rules FILE] METHOD URL [-H "name: value"]... [--ip ADDR] [--json]`
 * Prints the route a request matches, its sticky key, bucket and backend: the same decide()
 * the gateway runs.
 */
import { parseArgs } from 'node:util';
import { decide, digestToken } from '../router/decide.js';
import { requestFacts } from '../router/request-facts.js';
import { BUCKETS } from '../router/split.js';
import { readRuleFile } from '../store/rule-file.js';
import { ruleContextOf } from '../store/rule-source.js';
import { UsageError, defaultConfigPath, loadConfigOrExit, printJson } from './common.js';

export const EXPLAIN_USAGE = 'switchyard explain [--config FILE] [--rules FILE] METHOD URL [-H "name: value"]... [--ip ADDR] [--json]';

export function explainCommand(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      rules: { type: 'string' },
      header: { type: 'string', short: 'H', multiple: true },
      ip: { type: 'string', default: '127.0.0.1' },
      json: { type: 'boolean', default: false },
    },
  });
  const [method, target] = positionals;
  if (!method || !target || positionals.length > 2) throw new UsageError(`usage: ${EXPLAIN_USAGE}`);
  const config = loadConfigOrExit(defaultConfigPath(values.config));
  const rules = readRuleFile(values.rules ?? config.rules.file, ruleContextOf(config));

  const url = new URL(target, 'http://localhost');
  const headers: Record<string, string> = { host: /^https?:\/\//.test(target) ? url.host : 'localhost' };
  for (const h of values.header ?? []) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new UsageError(`-H expects "name: value", got ${JSON.stringify(h)}`);
    const name = h.slice(0, colon).trim().toLowerCase();
    const value = h.slice(colon + 1).trim();
    headers[name] = headers[name] && name !== 'host' ? `${headers[name]}, ${value}` : value;
  }
  const facts = requestFacts(method.toUpperCase(), url.pathname + url.search, headers, values.ip);
  const d = decide(rules, facts, {
    backends: new Set(config.backends.map((b) => b.name)),
    overrideTokenDigest: digestToken(config.override.token),
    random: () => 0,
  });
  const route = d.route;
  const ranges: { backend: string; from: number; to: number; percent: number }[] = [];
  if (route) {
    let from = 0;
    for (const r of route.split.ranges) {
      ranges.push({ backend: r.backend, from, to: r.upTo - 1, percent: route.split.percent[r.backend] ?? 0 });
      from = r.upTo;
    }
  }
  const random = d.placement === 'random';
  const result = {
    route: d.routeName,
    rule_index: route ? rules.routes.indexOf(route) : null,
    sticky_key: route?.sticky?.spec ?? null,
    sticky_value: d.stickyValue ?? null,
    salt: route && !route.split.single ? route.salt : null,
    bucket: random ? null : (d.bucket ?? null),
    buckets: BUCKETS,
    split: ranges,
    placement: d.placement,
    backend: random ? null : d.backend,
    override_rejected: d.overrideRejected,
  };
  if (values.json) {
    printJson(result);
    return 0;
  }
  const lines = [
    `route:     ${result.route}${result.rule_index === null ? ' (no route matched; the rule set default)' : ` (routes[${result.rule_index}])`}`,
    `sticky:    ${result.sticky_key ? `${result.sticky_key} = ${result.sticky_value === null ? '(absent)' : JSON.stringify(result.sticky_value)}` : '(none)'}`,
  ];
  if (result.bucket !== null) lines.push(`bucket:    ${result.bucket} of ${BUCKETS} (salt ${JSON.stringify(result.salt)})`);
  if (ranges.length > 1) lines.push(`split:     ${ranges.map((r) => `${r.backend} ${r.percent}% [${r.from}-${r.to}]`).join(', ')}`);
  lines.push(
    `backend:   ${random ? `random by weight (no sticky key value): ${ranges.map((r) => `${r.backend} ${r.percent}%`).join(', ')}` : d.backend}${d.placement === 'override' ? ' (override)' : ''}`,
  );
  if (d.overrideRejected) lines.push('override:  ignored (missing or wrong x-switchyard-token, or unknown backend)');
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
