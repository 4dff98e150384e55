/**
 * `switchyard rollout status|pause|resume|promote|abort`: reads and acts on the rollouts in the
 * rules store directly (Redis), as `switchyard rules` does; `--redis`, `--prefix` and `--config`
 * as for `rules`. A person's promote is one step now, authored by them (docs/rollouts.md).
 */
import { parseArgs } from 'node:util';
import type { GatewayConfig } from '../config/gateway-config.js';
import { ACTIONS, RolloutError, Rollouts, type Action, type RolloutStatus } from '../rollout/rollouts.js';
import { ruleContextOf } from '../store/rule-source.js';
import type { RuleStore } from '../store/rule-store.js';
import { UsageError, defaultConfigPath, loadConfigOrExit, printJson } from './common.js';
import { withRuleStore } from './rule-store-connection.js';
import { safeUser } from './rules.js';

export const ROLLOUT_USAGE = `switchyard rollout status [ROUTE] [--json] [--redis URL] [--prefix PREFIX] [--config FILE]
switchyard rollout pause|resume|promote|abort ROUTE [--author NAME] [--json] [--redis URL] [--prefix PREFIX] [--config FILE]`;

function rollouts(config: GatewayConfig, store: RuleStore, prefix: string): Rollouts {
  const r = config.rollouts;
  return new Rollouts(store.redis, store, prefix, ruleContextOf(config), { prefix, bucketMs: r.bucketMs, retainMs: r.retainMs });
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

function printStatus(s: RolloutStatus): void {
  const steps = s.steps.map((p, i) => (i === s.step - 1 ? `[${p}]` : String(p))).join(' ');
  process.stdout.write(`rollout ${s.route}: ${s.state}, ${s.to} at ${s.percent}% (step ${s.step} of ${s.steps.length}: ${steps}), ${s.time_at_step} at this step\n`);
  process.stdout.write(`  ${s.reason}\n`);
  for (const g of s.gates) {
    const value = g.value === null ? '-' : g.gate === 'p99_ratio' ? `${g.value.toFixed(2)}x` : pct(g.value);
    const limit = g.gate === 'p99_ratio' ? `${g.limit}x` : pct(g.limit);
    process.stdout.write(`  ${g.gate.padEnd(14)} ${value.padStart(8)} / ${limit.padEnd(7)} ${g.status.padEnd(6)} ${g.detail}\n`);
  }
  if (s.missing.length) process.stdout.write(`  before the next move: ${s.missing.join('; ')}\n`);
}

export async function rolloutCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      redis: { type: 'string' },
      prefix: { type: 'string' },
      author: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (sub !== 'status' && !(ACTIONS as readonly string[]).includes(sub ?? '')) throw new UsageError(`usage:\n${ROLLOUT_USAGE}`);
  const config = loadConfigOrExit(defaultConfigPath(values.config));
  const prefix = values.prefix ?? config.rules.redis?.prefix ?? 'switchyard:';
  try {
    if (sub === 'status') {
      if (positionals.length > 1) throw new UsageError('usage: switchyard rollout status [ROUTE]');
      const list = await withRuleStore(config, values, (s) => rollouts(config, s, prefix).status(positionals[0]));
      if (values.json) printJson({ rollouts: list });
      else if (list.length === 0) process.stdout.write('no rollouts in the active rules\n');
      else list.forEach(printStatus);
      return 0;
    }
    const route = positionals[0];
    if (!route || positionals.length !== 1) throw new UsageError(`usage: switchyard rollout ${sub} ROUTE`);
    const state = await withRuleStore(config, values, (s) => rollouts(config, s, prefix).act(route, sub as Action, values.author ?? safeUser()));
    if (values.json) printJson({ rollout: state });
    else process.stdout.write(`rollout ${route}: ${state.state} at ${state.percent}% (${state.reason})\n`);
    return 0;
  } catch (err) {
    if (err instanceof RolloutError) {
      process.stderr.write(`switchyard: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
