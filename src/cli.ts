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

interface Command {
  run: (argv: string[]) => number | Promise<number>;
  /** One line per form, each starting `switchyard NAME`; other lines are notes. */
  usage: string;
  what: string;
}

const commands: Record<string, Command> = {
  gateway: { run: gatewayCommand, usage: GATEWAY_USAGE, what: 'runs the gateway until SIGTERM or SIGINT, then drains and exits 0' },
  rules: { run: rulesCommand, usage: RULES_USAGE, what: 'validates a rules file; pushes, shows, lists, diffs and rolls back the rules in Redis' },
  rollout: { run: rolloutCommand, usage: ROLLOUT_USAGE, what: 'shows a rollout (state, step, gates, what is missing) and pauses, resumes, promotes or aborts it' },
  explain: { run: explainCommand, usage: EXPLAIN_USAGE, what: 'prints the route, sticky key, bucket and backend the gateway would choose for a request' },
  diffs: { run: diffsCommand, usage: DIFFS_USAGE, what: 'prints the shadow diff report of a running gateway (needs the admin token)' },
  legacy: { run: legacyCommand, usage: LEGACY_USAGE, what: 'runs the legacy layer (nginx + Lua) in the foreground' },
  pipeline: { run: pipelineCommand, usage: PIPELINE_USAGE, what: 'runs the new pipeline as a service of its own' },
  products: { run: productsCommand, usage: PRODUCTS_USAGE, what: 'validates an edge products file' },
};

const USAGE = `usage:\n${Object.values(commands)
  .map((c) => '  ' + c.usage.split('\n').join('\n  '))
  .join('\n')}\n\nswitchyard COMMAND --help describes one command.\n`;

/** `switchyard CMD [SUB] --help`: the forms of that (sub)command and what it does. */
function help(name: string, args: string[]): string {
  const { usage, what } = commands[name]!;
  const sub = args.find((a) => !a.startsWith('-'));
  const lines = usage.split('\n');
  const forms = lines.filter((l) => l.startsWith(`switchyard ${name}`));
  const chosen = sub ? forms.filter((l) => l.startsWith(`switchyard ${name} ${sub}`)) : [];
  const notes = lines.filter((l) => !l.startsWith('switchyard '));
  return `usage: ${(chosen.length ? chosen : forms).join('\n       ')}\n${notes.map((n) => n + '\n').join('')}\n${what}\nREADME.md ("Use") and docs/ describe every flag.\n`;
}

const wantsHelp = (args: string[]) => {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || (name === 'help' && !rest[0])) {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  if (name === 'help' && commands[rest[0]!]) {
    process.stdout.write(help(rest[0]!, rest.slice(1)));
    return 0;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}\n${USAGE}`);
  if (wantsHelp(rest)) {
    process.stdout.write(help(name, rest));
    return 0;
  }
  applyRuntimeTuning(name);
  return command.run(rest);
}

// `switchyard rules history | head -1`: when the reader goes away, stop quietly and exit 0 as
// other Unix tools do, instead of dying on an unhandled EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
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
