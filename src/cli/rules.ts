/**
 * `switchyard rules validate|push|show|history|diff|rollback`. The Redis URL comes from
 * `--redis`, then SWITCHYARD_REDIS_URL, then `rules.redis` of the gateway config
 * (rule-store-connection.ts). `--json` makes validate, push, show, history and rollback print
 * one JSON document on stdout.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { GatewayConfig } from '../config/gateway-config.js';
import { ConfigError, formatIssue } from '../config/yaml-source.js';
import { ERRORS } from '../errors.js';
import { parseRuleSet } from '../rules/rule-set.js';
import { VersionConflictError, type RuleStore } from '../store/rule-store.js';
import { ruleContextOf } from '../store/rule-source.js';
import { UsageError, defaultConfigPath, loadConfigOrExit, printJson } from './common.js';
import { withRuleStore } from './rule-store-connection.js';

export const RULES_USAGE = `switchyard rules validate FILE [--json] [--config GATEWAY.yaml]
switchyard rules push FILE [--expect-version N] [-m MESSAGE] [--author NAME] [--json] [--redis URL] [--config FILE]
switchyard rules show [--version N] [--json] [--redis URL] [--config FILE]
switchyard rules history [--json] [--redis URL] [--config FILE]
switchyard rules diff A B [--redis URL] [--config FILE]
switchyard rules rollback [--to N] [-m MESSAGE] [--json] [--redis URL] [--config FILE]
  (Redis commands also take --prefix PREFIX: default rules.redis.prefix, else "switchyard:")`;

/** A push warns when no gateway has read its prefix within this window. */
const READER_WINDOW_MS = 60_000;

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

/**
 * Validates a rules file against the gateway config's backends. Every error goes to stderr as
 * FILE:LINE:COL, or with --json to stdout as `{ok: false, errors}`.
 */
function validate(file: string, config: GatewayConfig, json: boolean): boolean {
  try {
    parseRuleSet(readFileSync(file, 'utf8'), file, ruleContextOf(config));
    return true;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    if (json) printJson({ ok: false, code: ERRORS.CONFIG_INVALID.code, errors: err.issues });
    else for (const issue of err.issues) process.stderr.write(formatIssue(issue) + '\n');
    return false;
  }
}

interface Pushed {
  version: number;
  previous: number;
  prefix: string;
  /** Gateways that read this prefix within the last minute. */
  readers: number;
}

/** Pushes, then counts who reads the prefix: a push nobody reads is a mistake worth a warning. */
async function pushAndCount(store: RuleStore, yaml: string, meta: Parameters<RuleStore['push']>[1]): Promise<Pushed> {
  const version = await store.push(yaml, meta);
  const readers = (await store.recentReaders(READER_WINDOW_MS)).length;
  // Versions grow by one per push (the push script), so the one replaced is version - 1.
  return { version, previous: version - 1, prefix: store.prefix, readers };
}

function reportPush(p: Pushed, json: boolean, extra: Record<string, unknown> = {}): void {
  if (json) printJson({ ok: true, ...p, ...extra });
  else process.stdout.write(`pushed version ${p.version} (was ${p.previous}) to ${p.prefix}\n`);
  if (p.readers === 0) {
    process.stderr.write(
      `switchyard: warning: no gateway has read ${p.prefix} in the last minute: check --prefix, and rules.redis (url and prefix) in the gateways' config\n`,
    );
  }
}

export async function rulesCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: OPTIONS });
  const config = loadConfigOrExit(defaultConfigPath(values.config));

  switch (sub) {
    case 'validate': {
      if (positionals.length !== 1) throw new UsageError('usage: switchyard rules validate FILE');
      if (!validate(positionals[0]!, config, values.json)) return 1;
      if (values.json) printJson({ ok: true, file: positionals[0] });
      else process.stdout.write('ok\n');
      return 0;
    }
    case 'push': {
      const file = positionals[0];
      if (!file || positionals.length !== 1) throw new UsageError('usage: switchyard rules push FILE [--expect-version N] [-m MESSAGE]');
      if (!validate(file, config, values.json)) return 1; // nothing is written when invalid
      const yaml = readFileSync(file, 'utf8');
      const expectVersion = intArg(values['expect-version'], '--expect-version');
      try {
        const pushed = await withRuleStore(config, values, (s) =>
          pushAndCount(s, yaml, { author: values.author ?? safeUser(), message: values.message ?? '', expectVersion }),
        );
        reportPush(pushed, values.json);
        return 0;
      } catch (err) {
        if (err instanceof VersionConflictError) {
          if (values.json) printJson({ ok: false, code: err.code, message: err.message, expected_version: err.expected, active_version: err.actual });
          else process.stderr.write(`switchyard: ${err.message}\n`);
          return 1;
        }
        throw err;
      }
    }
    case 'show': {
      const wanted = intArg(values.version, '--version');
      const entry = await withRuleStore(config, values, (s) => (wanted === undefined ? s.active() : s.get(wanted)));
      if (!entry) {
        process.stderr.write(wanted === undefined ? 'switchyard: no rules pushed yet\n' : `switchyard: version ${wanted} is not in the retained history\n`);
        return 1;
      }
      if (values.json) printJson(entry);
      else process.stdout.write(entry.yaml.endsWith('\n') ? entry.yaml : entry.yaml + '\n');
      return 0;
    }
    case 'history': {
      const [entries, active] = await withRuleStore(config, values, async (s) => [await s.history(), await s.activeVersion()] as const);
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
      const [ea, eb] = await withRuleStore(config, values, async (s) => [await s.get(a), await s.get(b)] as const);
      if (!ea || !eb) {
        process.stderr.write(`switchyard: version ${!ea ? a : b} is not in the retained history\n`);
        return 1;
      }
      process.stdout.write(await rulesDiffText(ea.yaml, eb.yaml, `version ${a}`, `version ${b}`));
      return 0;
    }
    case 'rollback': {
      const to = intArg(values.to, '--to');
      let target: number | undefined;
      const pushed = await withRuleStore(config, values, async (s) => {
        const current = await s.activeVersion();
        target = to ?? (await s.history()).find((e) => e.version < current)?.version;
        if (target === undefined) throw new UsageError('there is no earlier version to roll back to');
        const entry = await s.get(target);
        if (!entry) throw new UsageError(`version ${target} is not in the retained history`);
        parseRuleSet(entry.yaml, `version ${target}`, ruleContextOf(config)); // still valid for today's backends?
        // The expected version guards against a push landing between the read and the write.
        return pushAndCount(s, entry.yaml, { author: values.author ?? safeUser(), message: values.message ?? `rollback to version ${target}`, expectVersion: current });
      });
      if (!values.json) process.stdout.write(`rolled back to version ${target}: `);
      reportPush(pushed, values.json, { rolled_back_to: target });
      return 0;
    }
    default:
      throw new UsageError(`usage:\n${RULES_USAGE}`);
  }
}

/** What `rules diff` prints for two stored rule files: a unified diff, as `diff -u` and git print it. */
export async function rulesDiffText(a: string, b: string, labelA: string, labelB: string): Promise<string> {
  // Loaded here, not at the top: every switchyard process (the gateway too) imports this file.
  const { createTwoFilesPatch, FILE_HEADERS_ONLY } = await import('diff');
  return createTwoFilesPatch(labelA, labelB, a, b, undefined, undefined, { context: 3, headerOptions: FILE_HEADERS_ONLY });
}

export function safeUser(): string {
  try {
    return process.env.USER ?? userInfo().username;
  } catch {
    return 'unknown';
  }
}
