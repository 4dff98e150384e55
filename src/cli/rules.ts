/**
 * `switchyard rules validate|push|show|history|diff|rollback`. The Redis URL comes from
 * `--redis`, then SWITCHYARD_REDIS_URL, then `rules.redis` of the gateway config.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { GatewayConfig, RedisConfig } from '../config/gateway-config.js';
import { ConfigError, formatIssue } from '../config/yaml-source.js';
import { diffLines, formatLineDiff } from '../diff/line-diff.js';
import { parseRuleSet } from '../rules/rule-set.js';
import { createRedisClient } from '../store/redis-client.js';
import { RuleStore, VersionConflictError } from '../store/rule-store.js';
import { ruleContextOf } from '../store/rule-source.js';
import { UsageError, defaultConfigPath, loadConfigOrExit, printJson } from './common.js';

export const RULES_USAGE = `switchyard rules validate FILE [--config GATEWAY.yaml]
switchyard rules push FILE [--expect-version N] [-m MESSAGE] [--author NAME] [--redis URL] [--config FILE]
switchyard rules show [--version N] [--redis URL] [--config FILE]
switchyard rules history [--json] [--redis URL] [--config FILE]
switchyard rules diff A B [--redis URL] [--config FILE]
switchyard rules rollback [--to N] [-m MESSAGE] [--redis URL] [--config FILE]
  (Redis commands also take --prefix PREFIX: default rules.redis.prefix, else "switchyard:")`;

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  redis: { type: 'string' },
  prefix: { type: 'string' },
  'expect-version': { type: 'string' },
  message: { type: 'string', short: 'm' },
  author: { type: 'string' },
  version: { type: 'string' },
  to: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

function intArg(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${name} expects a version number, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** Validates a rules file against the gateway config's backends; prints every error. */
function validate(file: string, config: GatewayConfig): boolean {
  try {
    parseRuleSet(readFileSync(file, 'utf8'), file, ruleContextOf(config));
    return true;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const issue of err.issues) process.stderr.write(formatIssue(issue) + '\n');
    return false;
  }
}

export async function withStore<T>(config: GatewayConfig, values: { redis?: string; prefix?: string }, fn: (store: RuleStore) => Promise<T>): Promise<T> {
  const fromConfig: Partial<RedisConfig> = config.rules.redis ?? {};
  const url = values.redis ?? process.env.SWITCHYARD_REDIS_URL ?? fromConfig.url;
  if (!url && !fromConfig.sentinels && !fromConfig.cluster) {
    throw new UsageError('no Redis given: use --redis URL, SWITCHYARD_REDIS_URL, or rules.redis in the gateway config');
  }
  const client = createRedisClient(values.redis || process.env.SWITCHYARD_REDIS_URL ? { url } : { ...fromConfig, url }, { maxBackoffMs: 500 });
  try {
    await client.connect();
    return await fn(new RuleStore(client, values.prefix ?? fromConfig.prefix ?? 'switchyard:', fromConfig.historyLimit ?? 50));
  } finally {
    client.disconnect();
  }
}

export async function rulesCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: OPTIONS });
  const config = loadConfigOrExit(defaultConfigPath(values.config));

  switch (sub) {
    case 'validate': {
      if (positionals.length !== 1) throw new UsageError('usage: switchyard rules validate FILE');
      return validate(positionals[0]!, config) ? 0 : 1;
    }
    case 'push': {
      const file = positionals[0];
      if (!file || positionals.length !== 1) throw new UsageError('usage: switchyard rules push FILE [--expect-version N] [-m MESSAGE]');
      if (!validate(file, config)) return 1; // nothing is written when invalid
      const yaml = readFileSync(file, 'utf8');
      const expectVersion = intArg(values['expect-version'], '--expect-version');
      try {
        const version = await withStore(config, values, (s) =>
          s.push(yaml, { author: values.author ?? safeUser(), message: values.message ?? '', expectVersion }),
        );
        process.stdout.write(`${version}\n`);
        return 0;
      } catch (err) {
        if (err instanceof VersionConflictError) {
          process.stderr.write(`switchyard: ${err.message}\n`);
          return 1;
        }
        throw err;
      }
    }
    case 'show': {
      const wanted = intArg(values.version, '--version');
      const entry = await withStore(config, values, (s) => (wanted === undefined ? s.active() : s.get(wanted)));
      if (!entry) {
        process.stderr.write(wanted === undefined ? 'switchyard: no rules pushed yet\n' : `switchyard: version ${wanted} is not in the retained history\n`);
        return 1;
      }
      if (values.json) printJson(entry);
      else process.stdout.write(entry.yaml.endsWith('\n') ? entry.yaml : entry.yaml + '\n');
      return 0;
    }
    case 'history': {
      const [entries, active] = await withStore(config, values, async (s) => [await s.history(), await s.activeVersion()] as const);
      if (values.json) {
        printJson(entries.map(({ yaml: _y, ...e }) => ({ ...e, active: e.version === active })));
        return 0;
      }
      for (const e of entries) {
        process.stdout.write(`${e.version === active ? '*' : ' '} ${String(e.version).padStart(5)}  ${e.time}  ${e.author.padEnd(12)}  ${e.message}\n`);
      }
      return 0;
    }
    case 'diff': {
      const a = intArg(positionals[0], 'A');
      const b = intArg(positionals[1], 'B');
      if (a === undefined || b === undefined || positionals.length !== 2) throw new UsageError('usage: switchyard rules diff A B');
      const [ea, eb] = await withStore(config, values, async (s) => [await s.get(a), await s.get(b)] as const);
      if (!ea || !eb) {
        process.stderr.write(`switchyard: version ${!ea ? a : b} is not in the retained history\n`);
        return 1;
      }
      const edits = diffLines(ea.yaml.split('\n'), eb.yaml.split('\n'));
      process.stdout.write(edits ? formatLineDiff(edits, `version ${a}`, `version ${b}`) : 'the versions differ too much to show a line diff\n');
      return 0;
    }
    case 'rollback': {
      const to = intArg(values.to, '--to');
      const version = await withStore(config, values, async (s) => {
        const current = await s.activeVersion();
        const target = to ?? (await s.history()).find((e) => e.version < current)?.version;
        if (target === undefined) throw new UsageError('there is no earlier version to roll back to');
        const entry = await s.get(target);
        if (!entry) throw new UsageError(`version ${target} is not in the retained history`);
        parseRuleSet(entry.yaml, `version ${target}`, ruleContextOf(config)); // still valid for today's backends?
        // The expected version guards against a push landing between the read and the write.
        return s.push(entry.yaml, { author: values.author ?? safeUser(), message: values.message ?? `rollback to version ${target}`, expectVersion: current });
      });
      process.stdout.write(`${version}\n`);
      return 0;
    }
    default:
      throw new UsageError(`usage:\n${RULES_USAGE}`);
  }
}

export function safeUser(): string {
  try {
    return process.env.USER ?? userInfo().username;
  } catch {
    return 'unknown';
  }
}
