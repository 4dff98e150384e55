#!/usr/bin/env -S node --max-semi-space-size=32
/**
 * The `switchyard` command. Each subcommand lives in src/cli/ and returns its exit code.
 * The shebang carries the runtime tuning of cli/runtime-tuning.ts, which applies it however
 * the command was started.
 */
// First: refuses an old Node.js before any dependency loads (see node-version.ts).
import './cli/node-version.js';
import { exitWithError, UsageError } from './cli/common.js';
import { DIFFS_USAGE, diffsCommand } from './cli/diffs.js';
import { EXPLAIN_USAGE, explainCommand } from './cli/explain.js';
import { GATEWAY_USAGE, gatewayCommand } from './cli/gateway.js';
import { LEGACY_USAGE, PRODUCTS_USAGE, legacyCommand, productsCommand } from './cli/legacy.js';
import { PIPELINE_USAGE, pipelineCommand } from './cli/pipeline.js';
import { RULES_USAGE, rulesCommand } from './cli/rules.js';
import { ROLLOUT_USAGE, rolloutCommand } from './cli/rollout.js';
import { applyRuntimeTuning } from './cli/runtime-tuning.js';

const USAGE = `usage:
  ${GATEWAY_USAGE}
  ${RULES_USAGE.split('\n').join('\n  ')}
  ${ROLLOUT_USAGE.split('\n').join('\n  ')}
  ${EXPLAIN_USAGE}
  ${DIFFS_USAGE}
  ${LEGACY_USAGE}
  ${PIPELINE_USAGE}
  ${PRODUCTS_USAGE}
`;

const commands: Record<string, (argv: string[]) => number | Promise<number>> = {
  gateway: gatewayCommand,
  rules: rulesCommand,
  rollout: rolloutCommand,
  explain: explainCommand,
  diffs: diffsCommand,
  legacy: legacyCommand,
  pipeline: pipelineCommand,
  products: productsCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}\n${USAGE}`);
  applyRuntimeTuning(name);
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) exitWithError(new UsageError((err as Error).message));
    exitWithError(err);
  },
);
