/**
 * `npm run bench [-- --quick] [--json] [--only a,b] [--node BIN[@CHECKOUT],…] [--check]`:
 * switchyard beside its peers, in one run.
 *
 * Starts its own origins, then runs one group of scenarios at a time (passthrough, shadow,
 * pipeline): starts the group's proxies, runs interleaved rounds (A B C … A B C …) so that drift on
 * a shared machine hits every scenario of the group alike, and stops them before the next group,
 * so that no proxy's background work runs beside another group's measurements. Reports medians,
 * and ratios within a group. The load generator, the origins and this harness share core 0; the
 * proxy under test gets core 1 (when taskset exists).
 * Every load run is bounded in time and targets loopback only. `--node` runs every Node-based
 * proxy once per runtime, side by side in each round (see runtimes.ts); `--check` starts
 * everything, prints what runs on which Node, and stops without sending load.
 */

import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { hasTaskset, type LoadResult, loadTool, runLoad } from './load.js';
import { checkpoint, cpuSeconds, HARNESS, type Proc, ROOT, sampleRss, stopAll } from './procs.js';
import { parseRuntimes, type Runtime } from './runtimes.js';
import { type Scenario, type Setup, scenarios, setupFor, startOrigins } from './scenarios.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string', default: '32' },
    node: { type: 'string' },
    check: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    [
      'npm run bench [-- --quick] [--rounds N] [--seconds S] [--warmup S] [--connections C] [--only NAME|GROUP,…] [--node BIN[@CHECKOUT],…] [--json] [--check]',
      '  --quick        1 round of 2 s after 1 s of warm-up (default 5 rounds of 5 s after 10 s)',
      '  --warmup S     seconds of load each proxy gets before its rounds, reported apart',
      '  --only         scenarios or groups (passthrough, shadow, pipeline) to run',
      '  --node         run every Node-based proxy once per runtime, side by side (runtimes.ts)',
      '  --json         print the rows and ratios as JSON',
      '  --check        start everything, send one request to each, stop',
      '',
    ].join('\n'),
  );
  process.exit(0);
}

const quick = values.quick;
const rounds = Number(values.rounds ?? (quick ? 1 : 5));
const seconds = Number(values.seconds ?? (quick ? 2 : 5));
/**
 * Seconds of load each proxy gets before its rounds: until its code is optimized. For its first
 * seconds under load a Node proxy runs unoptimized code, and then each young-generation collection
 * promotes megabytes and pauses for tens of ms (--trace-gc; bare undici too, at half the rate);
 * after TurboFan's last compilations (--trace-opt: about 4 s of load here) and the next
 * mark-compact, scavenges promote KBs. With 1 s of warm-up, switchyard's first rounds measured that
 * transient: 0.85× bare undici's req/s, against 0.99× with 10 s. The warm-up's figures are
 * reported apart (`warm-up req/s`), not dropped.
 */
const warmup = Number(values.warmup ?? (quick ? 1 : 10));
const connections = Number(values.connections);
const LOAD_CPU = '0';
const PROXY_CPU = availableParallelism() > 1 ? '1' : '0';
/** Read before the harness pins itself to the load core (which narrows availableParallelism). */
const MACHINE = `${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}, harness node ${process.version}`;

interface Row {
  scenario: string;
  /** The runtime's label, for a scenario whose proxy runs on Node. */
  node?: string;
  group: string;
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  /**
   * CPU time (user + system, µs) per request served, summed over every process on the proxied
   * path (with their children: nginx workers), origin and load generator excluded.
   */
  cpuUsPerReq?: number;
  peakRssMb: number;
  /** Each round's figures, in order: the ratios pair them round by round (see `paired`). */
  rounds: { rps: number; p99ms: number; cpuUsPerReq?: number }[];
  /** The warm-up run's req/s: the proxy's first seconds under load, after its start. */
  warmupRps: number;
  /** The gateway's event-loop delay during the warm-up: p99 / max (ms). */
  warmupLoopP99Ms?: number;
  warmupLoopMaxMs?: number;
  /** The gateway's event-loop delay during the load (switchyard_event_loop_delay_seconds): largest max, median p99. */
  loopMaxMs?: number;
  loopP99Ms?: number;
  /** Each round's p99, in order (issue 14 sets its target on the largest). */
  loopP99RoundsMs?: number[];
  /** Comparisons on the event loop during the load runs (switchyard_shadow_compare_seconds), and how many took over 5 ms. */
  inlineCompares?: number;
  inlineComparesOver5ms?: number;
  /** The paced run after each saturated one (PACED scenarios): its req/s, and the loop delay during it (median p99, largest max). */
  pacedRps?: number;
  pacedLoopP99Ms?: number;
  pacedLoopMaxMs?: number;
}

/**
 * Scenarios whose event-loop delay is also read at a paced rate, well under saturation: there a
 * timer waits for what runs on the loop (a comparison), not for the queue of requests a
 * saturated core always has. 16 connections, each waiting 8 ms between requests (about 1,800 req/s).
 */
const PACED = new Set(['switchyard-no-shadow', 'shadow-diff-100']);
const PACE = { connections: 16, delayMs: 8 };

interface GatewayStats {
  p99: number;
  max: number;
  /** Cumulative counts of inline comparisons: all, and those within 5 ms. */
  compares: number;
  comparesWithin5ms: number;
}

/**
 * From a gateway's admin /metrics: p99 and max event-loop delay (ms) since the previous scrape,
 * and the cumulative counts of comparisons made on the event loop.
 */
async function gatewayStats(adminPort: number): Promise<GatewayStats | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    const stat = (s: string) => Number(new RegExp(`^switchyard_event_loop_delay_seconds\\{stat="${s}"\\} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) * 1000;
    const inline = (le: string) =>
      Number(new RegExp(`^switchyard_shadow_compare_seconds_bucket\\{le="${le}",where="inline"\\} (\\S+)`, 'm').exec(text)?.[1] ?? 0);
    return { p99: stat('p99'), max: stat('max'), compares: inline('\\+Inf'), comparesWithin5ms: inline('0.005') };
  } catch {
    return undefined;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const ratio = (a?: number, b?: number) => (a && b ? round2(a / b) : null);

/** The figures a pair of scenarios is compared by, round by round. */
type Measure = 'rps' | 'p99ms' | 'cpuUsPerReq';

/**
 * A's figure over B's, as the median over rounds of the two measured in the same round. A round
 * measures the scenarios of a group back to back, so a slow minute of a shared machine (its
 * neighbours' bursts moved a scenario by up to 2× between rounds here) hits both figures of a
 * pair; a ratio of the two medians could take them from different rounds.
 */
function paired(a: Row | undefined, b: Row | undefined, m: Measure): number | null {
  if (!a || !b) return null;
  const xs: number[] = [];
  for (let i = 0; i < Math.min(a.rounds.length, b.rounds.length); i++) {
    const x = a.rounds[i]![m];
    const y = b.rounds[i]![m];
    if (x && y) xs.push(x / y);
  }
  return xs.length ? round2(median(xs)) : null;
}

/** The three edges of issue 14, item 5: before switchyard, during the migration, after the cutover. */
const BEFORE = 'legacy-layer';
const DURING = 'gateway-to-legacy-layer';
const AFTER = 'gateway-with-pipeline-inprocess';

/** The largest of the rounds' event-loop delay p99, with every round's: `7.2 (rounds: 1.9, 7.2, …)`. */
function worstOf(r: Row | undefined): string | null {
  const xs = r?.loopP99RoundsMs;
  return xs?.length ? `${Math.max(...xs)} (rounds: ${xs.join(', ')})` : null;
}

/** The warm-up's event-loop delay as `p99 / max`. */
function warmupLoop(r: Row | undefined): string | null {
  return r?.warmupLoopP99Ms === undefined ? null : `${r.warmupLoopP99Ms} / ${r.warmupLoopMaxMs}`;
}

/** A paced run's figures as `p99 / max (at N req/s)`. */
function pacedFigures(r: Row | undefined): string | null {
  return r?.pacedRps === undefined ? null : `${r.pacedLoopP99Ms} / ${r.pacedLoopMaxMs} (at ${r.pacedRps} req/s)`;
}

/** The ratios the benchmark issue set targets for, within one runtime. */
function ratiosOf(by: (name: string) => Row | undefined): Record<string, number | string | null> {
  return {
    'switchyard / http-proxy req/s (target >= 1.5)': paired(by('switchyard'), by('http-proxy'), 'rps'),
    'switchyard / undici req/s (target >= 0.95)': paired(by('switchyard'), by('undici'), 'rps'),
    'switchyard / undici p99 (target <= 1.2)': paired(by('switchyard'), by('undici'), 'p99ms'),
    // The first seconds under load, after start (the warm-up run), where Node runs unoptimized code.
    'warm-up: switchyard / undici req/s': ratio(by('switchyard')?.warmupRps, by('undici')?.warmupRps),
    'switchyard access log on / off req/s (target >= 0.95)': paired(by('switchyard'), by('switchyard-access-log-off'), 'rps'),
    'undici / http-proxy req/s': paired(by('undici'), by('http-proxy'), 'rps'),
    // How much of a Node proxy's cost is node:http and undici: a bare-socket relay (net-floor.ts).
    'bare socket relay / bare undici CPU per request': paired(by('net-floor'), by('undici'), 'cpuUsPerReq'),
    'bare socket relay / nginx CPU per request': paired(by('net-floor'), by('nginx'), 'cpuUsPerReq'),
    'switchyard 10k routes / 1 route req/s (target >= 0.95)': paired(by('switchyard-10k-routes'), by('switchyard'), 'rps'),
    'switchyard 10k routes / 1 route peak RSS (target <= 1.5)': ratio(by('switchyard-10k-routes')?.peakRssMb, by('switchyard')?.peakRssMb),
    // The shadow group's own baseline, measured in the same rounds.
    'shadow 500 ms target / no shadow req/s (target >= 0.9)': paired(by('shadow-slow-target'), by('switchyard-no-shadow'), 'rps'),
    'shadow 500 ms target / no shadow p99 (target <= 1.2)': paired(by('shadow-slow-target'), by('switchyard-no-shadow'), 'p99ms'),
    'shadow down target / no shadow req/s (target >= 0.9)': paired(by('shadow-down-target'), by('switchyard-no-shadow'), 'rps'),
    'shadow 100% with JSON diff / no shadow req/s (target >= 0.8)': paired(by('shadow-diff-100'), by('switchyard-no-shadow'), 'rps'),
    // The floor: bare undici sending every request twice, against bare undici, in the same rounds.
    'bare undici sending every request twice / bare undici req/s (floor of the ratio above)': paired(by('undici-mirror-100'), by('undici-no-mirror'), 'rps'),
    'shadow 100% with JSON diff: event-loop delay p99 ms, median of the rounds': by('shadow-diff-100')?.loopP99Ms ?? null,
    'shadow 100% with JSON diff: event-loop delay p99 ms, largest of the rounds (target <= 5)': worstOf(by('shadow-diff-100')),
    'shadow 100% with JSON diff: event-loop delay max ms': by('shadow-diff-100')?.loopMaxMs ?? null,
    'shadow 100% with JSON diff, warm-up: event-loop delay p99 / max ms': warmupLoop(by('shadow-diff-100')),
    'no shadow, warm-up: event-loop delay p99 / max ms': warmupLoop(by('switchyard-no-shadow')),
    'no shadow (same rounds): event-loop delay p99 ms': by('switchyard-no-shadow')?.loopP99Ms ?? null,
    'no shadow (same rounds): event-loop delay p99 ms, largest of the rounds': worstOf(by('switchyard-no-shadow')),
    // What the event loop waited for comparisons themselves (switchyard_shadow_compare_seconds).
    'shadow 100% with JSON diff, paced: event-loop delay p99 / max ms': pacedFigures(by('shadow-diff-100')),
    'no shadow, paced: event-loop delay p99 / max ms': pacedFigures(by('switchyard-no-shadow')),
    'shadow 100% with JSON diff: comparisons on the event loop': by('shadow-diff-100')?.inlineCompares ?? null,
    'shadow 100% with JSON diff: of them over 5 ms (target 0)': by('shadow-diff-100')?.inlineComparesOver5ms ?? null,
    'nginx mirror (500 ms target) / nginx req/s': paired(by('nginx-mirror-slow'), by('nginx'), 'rps'),
    'pipeline / legacy layer req/s': paired(by('pipeline'), by('legacy-layer'), 'rps'),
    'pipeline / legacy layer p99': paired(by('pipeline'), by('legacy-layer'), 'p99ms'),
    'gateway + in-process pipeline / gateway + pipeline process req/s': paired(by('gateway-with-pipeline-inprocess'), by('gateway-to-pipeline-process'), 'rps'),
    // Issue 14, item 5: the edge after the cutover (gateway, in-process pipeline at 100%) against
    // the edge before switchyard (the legacy layer alone), and during the migration.
    'after cutover / legacy layer CPU per request (target <= 1.0)': paired(by(AFTER), by(BEFORE), 'cpuUsPerReq'),
    'after cutover / legacy layer req/s (target >= 1.0)': paired(by(AFTER), by(BEFORE), 'rps'),
    'after cutover / legacy layer p99 (target <= 1.0)': paired(by(AFTER), by(BEFORE), 'p99ms'),
    'after cutover / legacy layer peak RSS': ratio(by(AFTER)?.peakRssMb, by(BEFORE)?.peakRssMb),
    // The floor in Node: a bare undici proxy, with no product logic, against the legacy layer.
    'bare undici proxy / legacy layer CPU per request (floor of the after-cutover ratio)': paired(by('undici-edge-floor'), by(BEFORE), 'cpuUsPerReq'),
    'bare undici proxy / legacy layer req/s': paired(by('undici-edge-floor'), by(BEFORE), 'rps'),
    // Under it: Node relaying the same requests' bytes on bare sockets, with no HTTP layer.
    'bare socket relay / legacy layer CPU per request (Node with no HTTP layer)': paired(by('net-edge-floor'), by(BEFORE), 'cpuUsPerReq'),
    'bare socket relay / legacy layer req/s': paired(by('net-edge-floor'), by(BEFORE), 'rps'),
    'gateway + in-process pipeline / gateway -> legacy layer CPU per request (target <= 1.0)': paired(by(AFTER), by(DURING), 'cpuUsPerReq'),
    'gateway -> legacy layer / legacy layer CPU per request': paired(by(DURING), by(BEFORE), 'cpuUsPerReq'),
    'gateway -> legacy layer / legacy layer peak RSS': ratio(by(DURING)?.peakRssMb, by(BEFORE)?.peakRssMb),
  };
}

/** The Setup a scenario starts with on runtime `rt` (scenarios.ts). */
function setupOn(rt: Setup['rt'], tag: string): Setup {
  return setupFor(rt, tag, { load: LOAD_CPU, proxy: PROXY_CPU });
}

interface Running {
  scenario: Scenario;
  runtime?: Runtime;
  /** The row's name: the scenario, with its runtime when there are several. */
  key: string;
  proc: Proc | undefined;
  /** The processes on the proxied path, with their descendants (CPU time, memory). */
  path: readonly number[];
  url: string;
  paths?: readonly string[];
}

/** Starts a group's scenarios (each once per runtime when `--node` names several). */
async function startGroup(group: readonly Scenario[], runtimes: readonly Runtime[]): Promise<Running[]> {
  const many = runtimes.length > 1;
  const started: Running[] = [];
  for (const s of group) {
    // Runtimes side by side, so that each round measures them back to back.
    const runs = s.node ? runtimes.map((rt, i) => ({ rt, setup: setupOn(rt, many ? `-${i}` : '') })) : [{ rt: undefined, setup: setupOn(HARNESS, '') }];
    for (const { rt, setup } of runs) {
      const { proc, path, url, paths } = await s.start(setup);
      const key = many && rt ? `${s.name} [${rt.label}]` : s.name;
      started.push({ scenario: s, runtime: rt, key, proc, path: path ?? (proc?.child.pid ? [proc.child.pid] : []), url, paths });
    }
  }
  return started;
}

/** One request to each started proxy, to show that it answers; no load. */
async function check(started: readonly Running[]): Promise<void> {
  for (const s of started) {
    const url = s.paths ? new URL(s.paths[0]!, s.url).href : s.url;
    const status = await fetch(url, { redirect: 'manual' }).then(
      async (r) => (await r.arrayBuffer(), r.status),
      (err: Error) => err.message,
    );
    process.stdout.write(
      `${s.key}: ${status} from ${url}${s.runtime ? ` on ${s.runtime.node} ${s.runtime.version}, ${s.runtime.root} (undici ${s.runtime.undici})` : ''}\n`,
    );
  }
}

type Warmup = { rps: number; loop?: GatewayStats };

type Sample = {
  load: LoadResult;
  rss: number;
  cpu?: number;
  loop?: { p99: number; max: number; compares: number; comparesOver5ms: number };
  paced?: { rps: number; p99: number; max: number };
};

/** Warms a group's proxies up, then runs its interleaved rounds. */
async function measure(started: readonly Running[], samples: Map<string, Sample[]>, warmups: Map<string, Warmup>): Promise<void> {
  // A gateway announces its admin port second: its event-loop delay is read around each load run.
  const adminOf = (s: Running) => (s.proc && s.proc.ports.length > 1 && s.proc.name.includes('shadow') ? s.proc.ports[1] : undefined);
  // Warm-up: JIT, pools and keep-alive connections (see `warmup`).
  for (const s of started) {
    const admin = adminOf(s);
    if (admin) await gatewayStats(admin); // starts the window
    const load = await runLoad({ url: s.url, connections, seconds: warmup, cpus: LOAD_CPU, paths: s.paths });
    const loop = admin ? await gatewayStats(admin) : undefined;
    warmups.set(s.key, { rps: load.rps, loop });
  }
  for (let round = 0; round < rounds; round++) {
    for (const s of started) {
      const pids = s.path;
      const rss = pids.length ? sampleRss(pids) : undefined;
      const admin = adminOf(s);
      const before = admin ? await gatewayStats(admin) : undefined; // starts the window
      const cpu0 = cpuSeconds(pids);
      const load = await runLoad({ url: s.url, connections, seconds, cpus: LOAD_CPU, paths: s.paths });
      const cpu = cpuSeconds(pids) - cpu0;
      const after = admin ? await gatewayStats(admin) : undefined;
      const loop =
        before && after
          ? {
              p99: after.p99,
              max: after.max,
              compares: after.compares - before.compares,
              comparesOver5ms: after.compares - after.comparesWithin5ms - (before.compares - before.comparesWithin5ms),
            }
          : undefined;
      let paced: Sample['paced'];
      if (admin && PACED.has(s.scenario.name)) {
        await gatewayStats(admin); // starts the window
        const p = await runLoad({ url: s.url, connections: PACE.connections, delayMs: PACE.delayMs, seconds, cpus: LOAD_CPU, paths: s.paths });
        const d = await gatewayStats(admin);
        if (d) paced = { rps: p.rps, p99: d.p99, max: d.max };
      }
      const list = samples.get(s.key) ?? [];
      list.push({ load, rss: rss?.stop() ?? 0, cpu: pids.length && load.requests ? (cpu * 1e6) / load.requests : undefined, loop, paced });
      samples.set(s.key, list);
      if (!values.json) process.stderr.write(`round ${round + 1}/${rounds} ${s.key}: ${Math.round(load.rps)} req/s\n`);
    }
  }
}

async function main(): Promise<void> {
  const only = values.only?.split(',');
  const chosen = scenarios.filter((s) => !only || only.includes(s.name) || only.includes(s.group));
  const runtimes = parseRuntimes(values.node, ROOT);
  const many = runtimes.length > 1;
  // The harness reads the proxies' output and samples /proc: on the load side's core, never the proxy's.
  if (hasTaskset) spawnSync('taskset', ['-a', '-p', '-c', LOAD_CPU, String(process.pid)], { stdio: 'ignore' });
  await startOrigins(setupOn(HARNESS, ''));
  const groups = [...new Set(chosen.map((s) => s.group))].map((g) => chosen.filter((s) => s.group === g));
  const started: Running[] = [];
  const samples = new Map<string, Sample[]>();
  const warmups = new Map<string, Warmup>();
  // A group that fails (a proxy that does not start) is reported and skipped: the groups measured
  // before and after it still print, and the exit code says that something is missing.
  const failed: string[] = [];
  for (const group of groups) {
    const stopGroup = checkpoint();
    try {
      const running = await startGroup(group, runtimes);
      if (values.check) await check(running);
      else await measure(running, samples, warmups);
      started.push(...running);
    } catch (err) {
      failed.push(`group ${group[0]!.group} failed: ${(err as Error).stack ?? err}`);
      process.stderr.write(`${failed.at(-1)}\n`);
      process.exitCode = 1;
    } finally {
      stopGroup();
    }
  }
  if (values.check) return;
  const rows: (Row & { key: string })[] = started.map(({ scenario, runtime, key }) => {
    const list = samples.get(key)!;
    const warm = warmups.get(key);
    return {
      key,
      scenario: scenario.name,
      node: runtime?.label,
      group: scenario.group,
      rps: Math.round(median(list.map((x) => x.load.rps))),
      p50ms: round2(median(list.map((x) => x.load.p50ms))),
      p99ms: round2(median(list.map((x) => x.load.p99ms))),
      errors: list.reduce((a, x) => a + x.load.errors, 0),
      ...(list[0]!.cpu === undefined ? {} : { cpuUsPerReq: Math.round(median(list.map((x) => x.cpu!))) }),
      rounds: list.map((x) => ({
        rps: Math.round(x.load.rps),
        p99ms: round2(x.load.p99ms),
        ...(x.cpu === undefined ? {} : { cpuUsPerReq: Math.round(x.cpu) }),
      })),
      warmupRps: Math.round(warm?.rps ?? 0),
      ...(warm?.loop ? { warmupLoopP99Ms: round2(warm.loop.p99), warmupLoopMaxMs: round2(warm.loop.max) } : {}),
      peakRssMb: Math.round(Math.max(...list.map((x) => x.rss)) / 1024 / 102.4) / 10,
      ...(list[0]!.loop
        ? {
            loopMaxMs: round2(Math.max(...list.map((x) => x.loop!.max))),
            loopP99Ms: round2(median(list.map((x) => x.loop!.p99))),
            loopP99RoundsMs: list.map((x) => round2(x.loop!.p99)),
            inlineCompares: list.reduce((a, x) => a + x.loop!.compares, 0),
            inlineComparesOver5ms: list.reduce((a, x) => a + x.loop!.comparesOver5ms, 0),
          }
        : {}),
      ...(list[0]!.paced
        ? {
            pacedRps: Math.round(median(list.map((x) => x.paced!.rps))),
            pacedLoopP99Ms: round2(median(list.map((x) => x.paced!.p99))),
            pacedLoopMaxMs: round2(Math.max(...list.map((x) => x.paced!.max))),
          }
        : {}),
    };
  });
  // Ratios within one runtime (a scenario without a runtime, such as nginx, belongs to all).
  const ratios: Record<string, number | string | null> = {};
  for (const rt of runtimes) {
    const by = (name: string) => rows.find((r) => r.scenario === name && (r.node === undefined || r.node === rt.label));
    for (const [k, v] of Object.entries(ratiosOf(by))) ratios[many ? `[${rt.label}] ${k}` : k] = v;
  }
  // And across runtimes: each one against the first.
  for (const rt of runtimes.slice(1)) {
    for (const row of rows.filter((r) => r.node === rt.label)) {
      const base = rows.find((r) => r.scenario === row.scenario && r.node === runtimes[0]!.label);
      ratios[`${row.scenario}: ${rt.label} / ${runtimes[0]!.label} req/s`] = paired(row, base, 'rps');
      ratios[`${row.scenario}: ${rt.label} / ${runtimes[0]!.label} p99`] = paired(row, base, 'p99ms');
    }
  }
  const meta = {
    date: new Date().toISOString(),
    machine: MACHINE,
    runtimes: runtimes.map((rt) => ({ label: rt.label, node: rt.node, version: rt.version, checkout: rt.root, undici: rt.undici })),
    load: `${loadTool()}, ${connections} connections, ${warmup}s of warm-up per proxy, then ${rounds} round(s) × ${seconds}s, interleaved within each group, one group running at a time`,
    pinning: hasTaskset ? `load generator + origin on cpu ${LOAD_CPU}, proxy on cpu ${PROXY_CPU}` : 'none (taskset missing)',
    command: `npm run bench --${quick ? ' --quick' : ''}${values.rounds ? ` --rounds ${rounds}` : ''}${values.seconds ? ` --seconds ${seconds}` : ''}${values.warmup ? ` --warmup ${warmup}` : ''}${values.only ? ` --only ${values.only}` : ''}${values.node ? ` --node ${values.node}` : ''}`,
  };
  if (values.json) {
    process.stdout.write(JSON.stringify({ meta, rows: rows.map(({ key: _k, ...r }) => r), ratios, failed }, null, 2) + '\n');
    return;
  }
  const lines = [
    `${meta.date}  ${meta.machine}`,
    `${meta.load}; ${meta.pinning}`,
    ...meta.runtimes.map((r) => `runtime ${r.label}: ${r.node} ${r.version}, ${r.checkout}, undici ${r.undici}`),
    '',
    '| scenario | req/s | p50 ms | p99 ms | errors | CPU µs/req | peak RSS MB | loop delay p99 / max ms | warm-up req/s | warm-up loop delay p99 / max ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.key} | ${r.rps} | ${r.p50ms} | ${r.p99ms} | ${r.errors} | ${r.cpuUsPerReq ?? ''} | ${r.peakRssMb} | ${r.loopMaxMs === undefined ? '' : `${r.loopP99Ms} / ${r.loopMaxMs}`} | ${r.warmupRps} | ${r.warmupLoopMaxMs === undefined ? '' : `${r.warmupLoopP99Ms} / ${r.warmupLoopMaxMs}`} |`,
    ),
    '',
    ...Object.entries(ratios)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `${k}: ${v}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  // Said again at the end, where a reader of the report looks, so that a missing group is not taken for a short run.
  for (const f of failed) process.stdout.write(`\n${f.split('\n')[0]}\n`);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

main()
  .catch((err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  })
  .finally(stopAll);
