/**
 * `switchyard explain [--config FILE] [--rules FILE] METHOD URL [-H "name: value"]... [--ip ADDR] [--json]`
 * Prints the route a request matches, its sticky key, bucket, each backend's range (even at 0%),
 * the backend, and whether and where the request would be shadowed and sampled: the same decide()
 * and sampling the gateway runs, on the same rules (Redis when the config names rules.redis, with
 * the version used; `--rules FILE` previews a file).
 */
import { isAbsolute, relative } from 'node:path';
import { parseArgs } from 'node:util';
import type { GatewayConfig } from '../config/gateway-config.js';
import { decide, digestToken } from '../router/decide.js';
import { requestFacts } from '../router/request-facts.js';
import { BUCKETS, bucketOf } from '../router/split.js';
import { stickyValue } from '../router/sticky-key.js';
import { parseRuleSet, type RuleSet } from '../rules/rule-set.js';
import { sampleSource } from '../shadow/sample-reader.js';
import { isSampled, shadowTarget } from '../shadow/sampling.js';
import { readRuleFile } from '../store/rule-file.js';
import { ruleContextOf } from '../store/rule-source.js';
import { defaultConfigPath, loadConfigOrExit, printJson, UsageError } from './common.js';
import { withRuleStore } from './rule-store-connection.js';

export const EXPLAIN_USAGE = 'switchyard explain [--config FILE] [--rules FILE] METHOD URL [-H "name: value"]... [--ip ADDR] [--json]';

/** The rules the gateway runs: the active version in Redis, or the rules file; `--rules` previews a file. */
/** A path under the working directory as a relative one, as a person typed it; others as they are. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return isAbsolute(path) && rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

async function loadRules(config: GatewayConfig, file: string | undefined): Promise<{ rules: RuleSet; source: string; version: number | null }> {
  const rc = ruleContextOf(config);
  if (file) return { rules: readRuleFile(file, rc), source: `file ${shown(file)} (preview)`, version: null };
  const redis = config.rules.redis;
  if (!redis) return { rules: readRuleFile(config.rules.file, rc), source: `file ${shown(config.rules.file)}`, version: null };
  const active = await withRuleStore(config, {}, (store) => store.active());
  if (!active)
    throw new UsageError(
      `no rules pushed to ${redis.prefix} in Redis yet (the gateway would serve its file or snapshot): push some, or preview a file with --rules FILE`,
    );
  return { rules: parseRuleSet(active.yaml, `redis ${redis.prefix} version ${active.version}`, rc), source: `redis ${redis.prefix}`, version: active.version };
}

export async function explainCommand(argv: string[]): Promise<number> {
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
  const { rules, source, version } = await loadRules(config, values.rules);

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
  const backendOrder = config.backends.map((b) => b.name);
  const d = decide(rules, facts, { backends: new Set(backendOrder), overrideTokenDigest: digestToken(config.override.token), random: () => 0 });
  const route = d.route;
  // The sticky value and bucket even when the split sends everything one way (a route at 0%).
  const sticky = d.stickyValue ?? (route?.sticky ? stickyValue(route.sticky, facts) : undefined);
  const bucket = d.bucket ?? (route && sticky !== undefined ? bucketOf(route.salt, sticky) : undefined);
  const ranges: { backend: string; from: number | null; to: number | null; percent: number }[] = [];
  if (route) {
    let from = 0;
    const inRange = new Set<string>();
    for (const r of route.split.ranges) {
      ranges.push({ backend: r.backend, from, to: r.upTo - 1, percent: route.split.percent[r.backend] ?? 0 });
      inRange.add(r.backend);
      from = r.upTo;
    }
    for (const [b, p] of Object.entries(route.split.percent)) if (!inRange.has(b)) ranges.push({ backend: b, from: null, to: null, percent: p });
  }
  const random = d.placement === 'random';
  const policy = route?.shadow;
  let shadow: { target: string | null; sampled: boolean | null; percent: number; why: string; samples: string } | null = null;
  if (route && policy) {
    const to = random ? null : (shadowTarget(policy, d.backend, backendOrder) ?? null);
    const sampled = sticky === undefined && policy.percent > 0 && policy.percent < 100 ? null : isSampled(policy, route, sticky);
    const why = !policy.methods.has(facts.method)
      ? `not shadowed: ${facts.method} is not in shadow.methods`
      : to === null
        ? random
          ? 'copied to the backend that does not serve it (the serving backend is chosen at random)'
          : 'not shadowed: no other backend to copy to'
        : to === d.backend
          ? 'not shadowed: the copy target is the serving backend'
          : sampled === false
            ? `not sampled (shadow percent ${policy.percent}%)`
            : sampled === null
              ? `sampled at random, ${policy.percent}% of requests without a sticky key value`
              : `copied to ${to}`;
    shadow = { target: to, sampled, percent: policy.percent, why, samples: shown(sampleSource(config)) };
  }
  const result = {
    rules: source,
    version,
    route: d.routeName,
    rule_index: route ? rules.routes.indexOf(route) : null,
    sticky_key: route?.sticky?.spec ?? null,
    sticky_value: sticky ?? null,
    salt: route ? route.salt : null,
    bucket: random ? null : (bucket ?? null),
    buckets: BUCKETS,
    split: ranges,
    placement: d.placement,
    backend: random ? null : d.backend,
    override_rejected: d.overrideRejected,
    shadow,
  };
  if (values.json) {
    printJson(result);
    return 0;
  }
  const lines = [
    `rules:     ${source}${version !== null ? ` version ${version}` : ''}`,
    `route:     ${result.route}${result.rule_index === null ? ' (no route matched; the rule set default)' : ` (routes[${result.rule_index}])`}`,
    `sticky:    ${result.sticky_key ? `${result.sticky_key} = ${result.sticky_value === null ? '(absent)' : JSON.stringify(result.sticky_value)}` : '(none)'}`,
  ];
  if (result.bucket !== null) lines.push(`bucket:    ${result.bucket} of ${BUCKETS} (salt ${JSON.stringify(result.salt)})`);
  if (ranges.length)
    lines.push(`split:     ${ranges.map((r) => `${r.backend} ${r.percent}% ${r.from === null ? '[no buckets]' : `[${r.from}-${r.to}]`}`).join(', ')}`);
  lines.push(
    `backend:   ${random ? `random by weight (no sticky key value): ${ranges.map((r) => `${r.backend} ${r.percent}%`).join(', ')}` : d.backend}${d.placement === 'override' ? ' (override)' : ''}`,
  );
  if (d.overrideRejected) lines.push('override:  ignored (missing or wrong x-switchyard-token, or unknown backend)');
  lines.push(
    `shadow:    ${shadow ? `${shadow.why}${shadow.target && shadow.sampled !== false && shadow.why.startsWith('copied') ? `; mismatches stored in ${shadow.samples}` : ''}` : 'off for this route'}`,
  );
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
