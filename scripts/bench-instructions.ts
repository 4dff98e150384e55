/**
 * `npm run bench:instructions [-- --only a,b] [--requests N] [--rounds R] [--warmup N]`: the
 * user-space instructions each proxy executes per request, counted by valgrind's callgrind, for
 * the Node proxies of `npm run bench` on the same origin and config.
 *
 * Why: on a shared VM the req/s and CPU figures of `npm run bench` moved by 10-20 % between
 * rounds minutes apart (issue 14's notes), more than most single changes to the gateway's path
 * are worth. An instruction count does not move with what else the machine runs: once warm, one
 * gateway counted over 3,000 requests in two rounds gave 159,684 and 159,893 instructions per
 * request here. What does move it is what a process runs by the clock or when V8 decides (see
 * IDLE_MS below and bench/callgrind.ts): those are counted apart and taken out. It leaves out the kernel's work
 * (the Node proxies here make the same four system calls per request, two reads and two writes,
 * seen with `strace -c`) and says nothing of cache misses or waits: it complements `npm run
 * bench`, it does not replace it. Use it to tell whether a change to the per-request path costs
 * more or less, and by how much.
 *
 * How: each proxy runs under `valgrind --tool=callgrind --instr-atstart=no` on core 1, started as
 * `npm run bench` starts it (the gateway as the README says, with its runtime flags given on the
 * command line so that it does not re-execute itself out of valgrind). The harness, on core 0, is
 * the client: exactly N requests on 8 keep-alive connections (fixed-load.ts), first `--warmup`
 * requests uncounted (V8's tiers take a few thousand), then `--rounds` counted runs, each
 * between `callgrind_control --zero --instr=on` and `--dump`. Reported: the least of the rounds
 * of the program's own instructions per request (see bench/callgrind.ts for what is left out:
 * V8's collector and optimizing compilers, printed apart), and ratios within the run. The least,
 * because what is left was only ever more in a round where such an event also left work on the
 * main thread (a deoptimised function run in a lower tier, an allocation slow path), and came
 * down from round to round as the code settled.
 * A script, not a test: it prints, it asserts nothing.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RUNTIME_FLAGS } from '../dist/cli/runtime-tuning.js';
import { type Count, countsOf } from './bench/callgrind.js';
import { fixedLoad } from './bench/fixed-load.js';
import { checkpoint, HARNESS, type Proc, startLimit, stopAll, workdir } from './bench/procs.js';
import { type Scenario, type Setup, scenarios, setupFor, startOrigins } from './bench/scenarios.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    requests: { type: 'string', default: '3000' },
    rounds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '15000' },
    connections: { type: 'string', default: '8' },
  },
});
const requests = Number(values.requests);
const rounds = Number(values.rounds);
const warmup = Number(values.warmup);
const connections = Number(values.connections);
const LOAD_CPU = '0';
const PROXY_CPU = '1';

/**
 * Counted by default: switchyard's scenarios and the floors its figures are read against most
 * often (bare undici, bare sockets).
 */
const DEFAULT = [
  'undici',
  'net-floor',
  'switchyard',
  'switchyard-access-log-off',
  'switchyard-no-shadow',
  'shadow-diff-100',
  'gateway-with-pipeline-inprocess',
];
/**
 * The scenarios whose every process on the proxied path is a Node process started through the
 * Setup (so under valgrind here): nginx and the legacy layer are not, and a count that left them
 * out would not be the path's. Beyond the default, with `--only`, each adding several minutes:
 * http-proxy (which valgrind makes the slowest), the after-cutover edge's floors on the edge mix
 * (bare undici, bare sockets) and the shadow's (bare undici sending every request twice, read
 * against 'undici').
 */
const COUNTABLE = [...DEFAULT, 'http-proxy', 'undici-edge-floor', 'net-edge-floor', 'undici-mirror-100'];

function has(cmd: string): boolean {
  return spawnSync(cmd, ['--version']).error === undefined;
}

/** A `node` that is valgrind running node: every proxy of a Setup with this runtime runs counted. */
function valgrindRuntime(): Setup['rt'] {
  const wrapper = join(workdir, 'node-under-callgrind');
  writeFileSync(
    wrapper,
    `#!/bin/sh\nexec valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=${workdir}/callgrind.%p ${JSON.stringify(HARNESS.node)} "$@"\n`,
    { mode: 0o755 },
  );
  return { node: wrapper, root: HARNESS.root };
}

function callgrind(pid: number, ...args: string[]): void {
  const r = spawnSync('callgrind_control', [...args, String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`callgrind_control ${args.join(' ')} ${pid}: ${r.stderr || r.stdout}`);
}

/**
 * A process also runs by the clock: the gateway's event-loop delay monitor wakes every 2 ms, its
 * access log flushes every 100 ms, its pools sweep every second. Under valgrind a round lasts some
 * 30 times longer than the same requests do natively, so that work weighed several thousand
 * instructions per request and moved with each round's length (two runs of the same gateway gave
 * least rounds of 168,806 and 160,616 without this). So each proxy is first counted idle for a
 * while, and that rate, times a round's length, is taken off the round.
 */
const IDLE_MS = 5000;

/** The instructions counted since the last zero, from the dump callgrind_control asks for. */
function counted(pid: number): Count {
  const before = new Set(readdirSync(workdir));
  callgrind(pid, '--dump');
  const dumps = readdirSync(workdir).filter((f) => f.startsWith(`callgrind.${pid}`) && !before.has(f));
  if (dumps.length !== 1) throw new Error(`expected one new callgrind dump of ${pid}, found ${dumps.length}`);
  return countsOf(join(workdir, dumps[0]!));
}

interface Row {
  scenario: string;
  /** The program's instructions per request (without the collector and the compilers), each round. */
  rounds: number[];
  /** What the process ran per second with no request, taken off each round for its length. */
  idlePerSecond: number;
  /** The collector's and the optimizing compilers' instructions per request, over all rounds. */
  gcPerRequest: number;
  jitPerRequest: number;
  statuses: Record<string, number>;
  errors: number;
}

async function measure(s: Scenario, setup: Setup): Promise<Row> {
  const started = await s.start(setup);
  const proc = started.proc as Proc;
  const pid = proc.child.pid!;
  await fixedLoad(started.url, warmup, connections, started.paths);
  // What the process runs by the clock, with no request (see IDLE_MS).
  callgrind(pid, '--zero');
  callgrind(pid, '--instr=on');
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, IDLE_MS));
  callgrind(pid, '--instr=off');
  const idle = counted(pid);
  const idlePerMs = (idle.total - idle.gc - idle.jit) / (performance.now() - t0);
  const row: Row = { scenario: s.name, rounds: [], idlePerSecond: Math.round(idlePerMs * 1000), gcPerRequest: 0, jitPerRequest: 0, statuses: {}, errors: 0 };
  let gc = 0;
  let jit = 0;
  for (let i = 0; i < rounds; i++) {
    callgrind(pid, '--zero');
    callgrind(pid, '--instr=on');
    const r = await fixedLoad(started.url, requests, connections, started.paths);
    callgrind(pid, '--instr=off');
    const n = counted(pid);
    for (const [k, v] of Object.entries(r.statuses)) row.statuses[k] = (row.statuses[k] ?? 0) + v;
    row.errors += r.errors;
    const own = Math.round((n.total - n.gc - n.jit - idlePerMs * r.ms) / requests);
    row.rounds.push(own);
    gc += n.gc;
    jit += n.jit;
    process.stderr.write(
      `${s.name}: round ${i + 1}/${rounds}: ${own} instructions per request, + ${Math.round(n.gc / requests)} collector, + ${Math.round(n.jit / requests)} compilers (${Math.round(r.ms)} ms)\n`,
    );
  }
  row.gcPerRequest = Math.round(gc / (requests * rounds));
  row.jitPerRequest = Math.round(jit / (requests * rounds));
  return row;
}

async function main(): Promise<void> {
  if (!has('valgrind') || !has('callgrind_control')) throw new Error('valgrind is missing (Debian: apt-get install valgrind)');
  const only = values.only?.split(',') ?? DEFAULT;
  const refused = only.filter((n) => !COUNTABLE.includes(n));
  if (refused.length) throw new Error(`--only ${refused.join(',')}: not counted here (a process on its path is not Node); one of ${COUNTABLE.join(', ')}`);
  startLimit.ms = 180_000;
  if (spawnSync('taskset', ['-c', '0', 'true']).status === 0) spawnSync('taskset', ['-a', '-p', '-c', LOAD_CPU, String(process.pid)], { stdio: 'ignore' });
  const cpus = { load: LOAD_CPU, proxy: PROXY_CPU };
  // The runtime flags on the command line: without them the gateway would re-execute itself
  // (runtime-tuning.ts) as a process valgrind does not follow.
  const setup = setupFor(valgrindRuntime(), '', cpus, RUNTIME_FLAGS);
  await startOrigins(setupFor(HARNESS, '', cpus));
  const rows: Row[] = [];
  // One proxy at a time: valgrind runs a process some 30 times slower, and each needs core 1.
  for (const s of scenarios.filter((x) => only.includes(x.name))) {
    const stop = checkpoint();
    try {
      rows.push(await measure(s, setup));
    } finally {
      stop();
    }
  }
  const by = (n: string) => rows.find((r) => r.scenario === n);
  const per = (n: string) => {
    const r = by(n);
    return r ? Math.min(...r.rounds) : undefined;
  };
  const ratio = (a: string, b: string) => {
    const x = per(a);
    const y = per(b);
    return x && y ? (x / y).toFixed(2) : undefined;
  };
  const lines = [
    `${new Date().toISOString()}  callgrind, ${requests} requests × ${rounds} round(s) after ${warmup} uncounted, ${connections} connections; proxy on cpu ${PROXY_CPU}, client and origin on cpu ${LOAD_CPU}; node ${process.version}`,
    '',
    '| scenario | instructions / request (least of the rounds) | rounds | + collector / request (mean) | + compilers / request (mean) | idle / second (taken off) | answers |',
    '|---|---:|---|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${Math.min(...r.rounds)} | ${r.rounds.join(', ')} | ${r.gcPerRequest} | ${r.jitPerRequest} | ${r.idlePerSecond} | ${Object.entries(
          r.statuses,
        )
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ')}${r.errors ? `, errors: ${r.errors}` : ''} |`,
    ),
    '',
  ];
  // Ratios of the program's own work (the least of the rounds).
  const ratios: [string, string | undefined][] = [
    ['switchyard / bare undici', ratio('switchyard', 'undici')],
    ['switchyard access log on / off', ratio('switchyard', 'switchyard-access-log-off')],
    ['bare socket relay / bare undici', ratio('net-floor', 'undici')],
    ['switchyard / bare socket relay', ratio('switchyard', 'net-floor')],
    ['http-proxy / bare undici', ratio('http-proxy', 'undici')],
    ['shadow 100% with JSON diff / no shadow', ratio('shadow-diff-100', 'switchyard-no-shadow')],
    ['bare undici sending every request twice / bare undici', ratio('undici-mirror-100', 'undici')],
    ['gateway + in-process pipeline (edge mix) / switchyard', ratio('gateway-with-pipeline-inprocess', 'switchyard')],
    ['gateway + in-process pipeline / bare undici (edge mix)', ratio('gateway-with-pipeline-inprocess', 'undici-edge-floor')],
    ['bare socket relay / bare undici (edge mix)', ratio('net-edge-floor', 'undici-edge-floor')],
  ];
  for (const [k, v] of ratios) if (v !== undefined) lines.push(`${k}: ${v}`);
  process.stdout.write(lines.join('\n') + '\n');
}

main()
  .catch((err: Error) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exitCode = 1;
  })
  .finally(stopAll);
