/**
 * `npm run bench:gateway-cpu [-- --rounds N] [--seconds S] [--connections C]`: CPU time per
 * request (user + system from /proc/PID/stat, in microseconds) of the gateway on its default
 * path (one route, plain HTTP backend, access log on, no shadow) beside the bare undici peer of
 * `npm run bench`, under the same wrk load, in interleaved rounds.
 *
 * Issue 14 sets req/s targets, but req/s on a machine shared with other work moves with whatever
 * else runs; the CPU a process spends per request it served is what the code costs, and stays
 * within a few percent from run to run. The gateway is started as the README says
 * (`node dist/cli.js gateway --config FILE`, so it tunes itself), with the config `npm run bench`
 * gives it; each process gets core 1, the load generator and the origin core 0.
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
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const TICKS_PER_SECOND = 100;

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const origin = await startPeer('origin', '0');
  const target = `http://127.0.0.1:${origin.port}`;
  const ONE_ROUTE = 'default: legacy\nroutes:\n  - { name: items, match: { path: "/api/**" }, backend: legacy }\n';
  const procs: [string, Proc, string][] = [];
  const undici = await startPeer('undici', '1', target);
  procs.push(['undici', undici, `http://127.0.0.1:${undici.port}/api/items`]);
  const gw = await startSwitchyard('switchyard', '1', { legacy: target }, ONE_ROUTE);
  procs.push(['switchyard', gw, `http://127.0.0.1:${gw.port}/api/items`]);
  const results = new Map<string, { us: number; rps: number; p99: number }[]>();
  for (const [, , url] of procs) await runLoad({ url, connections, seconds: 1, cpus: '0' });
  for (let r = 0; r < rounds; r++) {
    for (const [name, p, url] of procs) {
      const pid = p.child.pid!;
      const before = cpuSeconds(pid);
      const load = await runLoad({ url, connections, seconds, cpus: '0' });
      const cpu = cpuSeconds(pid) - before;
      const us = (cpu / Math.max(1, load.requests)) * 1e6;
      const list = results.get(name) ?? [];
      list.push({ us, rps: load.rps, p99: load.p99ms });
      results.set(name, list);
      process.stderr.write(
        `round ${r + 1}/${rounds} ${name}: ${us.toFixed(1)} us/request, ${Math.round(load.rps)} req/s, p99 ${load.p99ms} ms, errors ${load.errors}\n`,
      );
    }
  }
  const rows = [...results].map(([name, list]) => ({
    name,
    us: median(list.map((x) => x.us)),
    rps: median(list.map((x) => x.rps)),
    p99: median(list.map((x) => x.p99)),
  }));
  for (const row of rows) process.stdout.write(`${row.name}: ${row.us.toFixed(1)} us CPU/request, ${Math.round(row.rps)} req/s, p99 ${row.p99} ms (medians)\n`);
  const [u, s] = [rows.find((x) => x.name === 'undici'), rows.find((x) => x.name === 'switchyard')];
  if (u && s) process.stdout.write(`switchyard / undici CPU per request: ${(s.us / u.us).toFixed(2)}\n`);
}

try {
  await main();
} finally {
  stopAll();
}
