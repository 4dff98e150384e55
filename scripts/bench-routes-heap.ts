/**
 * `npm run bench:routes-heap`: what a rule set of 1 and of 10,000 routes costs to parse and to
 * keep (issue 14 item 4), each in a fresh process started with --expose-gc: parse CPU time
 * (user + system, process.cpuUsage: meaningful on a loaded machine) of the process and of the
 * child that parses a large text (src/config/yaml-source.ts), heap retained by the rule
 * set after a full GC, and the process's peak RSS (VmHWM). With --snapshot, writes a heap
 * snapshot of the 10,000-route process after parse + GC (open it in Chrome DevTools, Memory).
 * A script, not a test: it prints, it asserts nothing.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeHeapSnapshot } from 'node:v8';
import { parseRuleSet } from '../dist/rules/rule-set.js';
import { manyRoutes } from './bench/many-routes.js';

const gc = (globalThis as { gc?: () => void }).gc;

/** CPU ms of the children this process has waited for (/proc/self/stat cutime + cstime, in ticks of 10 ms). */
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

if (process.argv[2] === '--child') {
  const n = Number(process.argv[3]);
  const text = manyRoutes(n);
  gc!();
  const before = process.memoryUsage().heapUsed;
  const t0 = process.cpuUsage();
  const c0 = childrenCpuMs();
  const rules = parseRuleSet(text, 'bench', { backends: ['legacy', 'pipeline'] });
  const cpu = process.cpuUsage(t0);
  const childMs = childrenCpuMs() - c0;
  gc!();
  gc!();
  const retained = process.memoryUsage().heapUsed - before;
  const hwm = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
  if (process.argv[4] === '--snapshot') console.error(`heap snapshot: ${writeHeapSnapshot()}`);
  console.log(
    JSON.stringify({ n, routes: rules.routes.length, cpuMs: (cpu.user + cpu.system) / 1000, childMs, retainedMb: retained / 1e6, peakRssMb: hwm / 1e6 }),
  );
} else {
  const self = fileURLToPath(import.meta.url);
  const snapshot = process.argv.includes('--snapshot');
  console.log('routes | parse CPU ms (process + child) | retained heap MB | peak RSS MB');
  for (const n of [1, 10_000]) {
    const out = execFileSync(process.execPath, ['--expose-gc', self, '--child', String(n), ...(snapshot && n > 1 ? ['--snapshot'] : [])], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const r = JSON.parse(out) as { n: number; cpuMs: number; childMs: number; retainedMb: number; peakRssMb: number };
    console.log(
      `${String(r.n).padStart(6)} | ${`${r.cpuMs.toFixed(0)} + ${r.childMs.toFixed(0)}`.padStart(29)} | ${r.retainedMb.toFixed(2).padStart(16)} | ${r.peakRssMb.toFixed(1).padStart(11)}`,
    );
  }
}
