/**
 * `npm run bench:gateway-cpu [-- --rounds N] [--seconds S] [--connections C] [--variant NAME=ARGS …]`:
 * CPU time per request (user + system from /proc/PID/stat, in microseconds, and the system part)
 * of the gateway on its default path (one route, plain HTTP backend, access log on, no shadow)
 * beside the bare undici peer of `npm run bench`, under the same wrk load, in interleaved rounds.
 *
 * Issue 14 sets req/s targets, but req/s on a machine shared with other work moves with whatever
 * else runs; the CPU a process spends per request it served is what the code costs. Still, two
 * runs minutes apart differed by up to 2 µs per request here (issue 14's notes): compare
 * builds or flags within one run, with `--variant`, never across runs. The gateway is started as
 * the README says (`node dist/cli.js gateway --config FILE`, so it tunes itself), with the config
 * `npm run bench` gives it; each process gets core 1, the load generator and the origin core 0.
 *
 * `--variant NAME=ARGS` (repeatable) adds a gateway started with ARGS, space-separated: `--flag`
 * is a Node flag on its command line (the runtime tuning keeps a flag given there), `KEY=VALUE` an
 * environment variable (`SWITCHYARD_RUNTIME_TUNING=off`), `access=off` turns its access log off.
 * Every other round runs the processes in the reverse order. For each variant it prints the
 * median over rounds of its CPU per request against switchyard's in the same round, and each
 * round's ratio, so that a difference can be told from the noise.
 *
 *   npm run bench:gateway-cpu -- --rounds 8 --variant 'semi64=--max-semi-space-size=64' --variant 'nolog=access=off'
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runLoad } from './bench/load.js';
import { type Proc, startPeer, startSwitchyard, stopAll } from './bench/procs.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '4' },
    connections: { type: 'string', default: '32' },
    variant: { type: 'string', multiple: true, default: [] },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const TICKS_PER_SECOND = 100;

/** utime + stime, and stime, of a process, in seconds. */
function cpuSeconds(pid: number): { all: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const [user, system] = [Number(fields[11]) / TICKS_PER_SECOND, Number(fields[12]) / TICKS_PER_SECOND];
  return { all: user + system, system };
}

interface Variant {
  name: string;
  nodeArgs: string[];
  env: Record<string, string>;
  access: boolean;
}

/** `NAME=ARGS` of `--variant` (see the header). */
function parseVariant(spec: string): Variant {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new Error(`--variant ${spec}: expected NAME=ARGS`);
  const v: Variant = { name: spec.slice(0, eq), nodeArgs: [], env: {}, access: true };
  for (const arg of spec
    .slice(eq + 1)
    .split(/\s+/)
    .filter(Boolean)) {
    if (arg.startsWith('--')) v.nodeArgs.push(arg);
    else if (arg === 'access=off') v.access = false;
    else if (/^[A-Z_][A-Z0-9_]*=/.test(arg)) v.env[arg.slice(0, arg.indexOf('='))] = arg.slice(arg.indexOf('=') + 1);
    else throw new Error(`--variant ${spec}: ${arg} is neither a --flag, KEY=VALUE nor access=off`);
  }
  return v;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const variants = (values.variant as string[]).map(parseVariant);
  const origin = await startPeer('origin', '0');
  const target = `http://127.0.0.1:${origin.port}`;
  const ONE_ROUTE = 'default: legacy\nroutes:\n  - { name: items, match: { path: "/api/**" }, backend: legacy }\n';
  const procs: [string, Proc, string][] = [];
  const undici = await startPeer('undici', '1', target);
  procs.push(['undici', undici, `http://127.0.0.1:${undici.port}/api/items`]);
  const gw = await startSwitchyard('switchyard', '1', { legacy: target }, ONE_ROUTE);
  procs.push(['switchyard', gw, `http://127.0.0.1:${gw.port}/api/items`]);
  for (const v of variants) {
    const p = await startSwitchyard(v.name, '1', { legacy: target }, ONE_ROUTE, '', undefined, v.access, { nodeArgs: v.nodeArgs, env: v.env });
    procs.push([v.name, p, `http://127.0.0.1:${p.port}/api/items`]);
  }
  const results = new Map<string, { us: number; systemUs: number; rps: number; p99: number }[]>();
  for (const [, , url] of procs) await runLoad({ url, connections, seconds: 1, cpus: '0' });
  for (let r = 0; r < rounds; r++) {
    for (const [name, p, url] of r % 2 ? [...procs].reverse() : procs) {
      const pid = p.child.pid!;
      const before = cpuSeconds(pid);
      const load = await runLoad({ url, connections, seconds, cpus: '0' });
      const after = cpuSeconds(pid);
      const n = Math.max(1, load.requests);
      const [us, systemUs] = [((after.all - before.all) / n) * 1e6, ((after.system - before.system) / n) * 1e6];
      const list = results.get(name) ?? [];
      list.push({ us, systemUs, rps: load.rps, p99: load.p99ms });
      results.set(name, list);
      process.stderr.write(
        `round ${r + 1}/${rounds} ${name}: ${us.toFixed(1)} us/request, ${Math.round(load.rps)} req/s, p99 ${load.p99ms} ms, errors ${load.errors}\n`,
      );
    }
  }
  const rows = [...results].map(([name, list]) => ({
    name,
    list,
    us: median(list.map((x) => x.us)),
    systemUs: median(list.map((x) => x.systemUs)),
    rps: median(list.map((x) => x.rps)),
    p99: median(list.map((x) => x.p99)),
  }));
  for (const row of rows)
    process.stdout.write(
      `${row.name}: ${row.us.toFixed(1)} us CPU/request (system ${row.systemUs.toFixed(1)}), ${Math.round(row.rps)} req/s, p99 ${row.p99} ms (medians)\n`,
    );
  const [u, s] = [rows.find((x) => x.name === 'undici'), rows.find((x) => x.name === 'switchyard')];
  if (u && s) process.stdout.write(`switchyard / undici CPU per request: ${(s.us / u.us).toFixed(2)}\n`);
  for (const v of rows.filter((x) => x.name !== 'undici' && x.name !== 'switchyard')) {
    // Round by round, against switchyard measured seconds before or after it.
    const ratios = v.list.map((x, i) => x.us / s!.list[i]!.us);
    process.stdout.write(`${v.name} / switchyard CPU per request: ${median(ratios).toFixed(3)} (rounds: ${ratios.map((x) => x.toFixed(2)).join(', ')})\n`);
  }
}

try {
  await main();
} finally {
  stopAll();
}
