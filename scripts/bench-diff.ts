/**
 * `npm run bench:diff`: what the comparer and `rules diff` cost (issue 14: a text comparison of
 * 1,000 changed lines blocked the event loop for ~85 ms, and `rules diff` of 3,000 changed lines
 * took 217 MB). Each case runs once in a fresh process, so the time is the cold time a request
 * would see and the peak RSS is the case's own. It also times the exact JSON parse of a 1 KiB
 * body against plain JSON.parse (issue 12: numbers kept as written). A script, not a test: it
 * prints, it asserts nothing.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { compareResponses, type CapturedResponse } from '../dist/diff/compare.js';
import { parseJsonExact } from '../dist/diff/exact-json.js';
import { rulesDiffText } from '../dist/cli/rules.js';
import { compileShadow } from '../dist/rules/shadow-policy.js';

const LINES = 6000;
const policy = compileShadow({ percent: 100, methods: ['GET'], max_body: 1 << 24, timeout: 1000, redact_json: [], compare: {} }).compare;

/** A rule-file-like text of LINES lines, and a copy with `changed` of them edited, spread out. */
function texts(changed: number): [string, string] {
  const a: string[] = [];
  for (let i = 0; i < LINES; i++) a.push(`  - { name: r${i}, match: { path: "/svc${i}/**" }, split: { legacy: 70, pipeline: 30 } }`);
  const b = [...a];
  const step = LINES / changed;
  for (let j = 0; j < changed; j++) b[Math.floor(j * step)] = b[Math.floor(j * step)]!.replace('70, pipeline: 30', '20, pipeline: 80');
  return [a.join('\n') + '\n', b.join('\n') + '\n'];
}

const text = (s: string): CapturedResponse => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from(s), truncated: false });
const json = (s: string): CapturedResponse => ({ status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(s), truncated: false });

/** A catalog page of about 1 KiB; `bigIds` gives ids past 2^53, which take the exact path. */
function body(bigIds: boolean): string {
  const items = [];
  for (let i = 0; i < 12; i++) {
    items.push({ id: bigIds ? `@${12345678901234567890n + BigInt(i)}@` : 1000 + i, name: `widget ${i}`, price: (999 + 100 * i) / 100, tags: ['a', 'b'], stock: i * 3 });
  }
  return JSON.stringify({ items, page: 1, total: 12, generated_at: '2026-01-01T00:00:00Z' }).replace(/"@(\d+)@"/g, '$1');
}

/** µs of CPU per call: on a machine shared with other work, CPU time moves less than wall time. */
function perOp(fn: () => unknown, n = 20_000): number {
  for (let i = 0; i < 2000; i++) fn();
  const t = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const u = process.cpuUsage(t);
  return (u.user + u.system) / n;
}

/** Runs one case in this process and prints one line. */
async function runCase(name: string, arg: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  if (name === 'json') {
    for (const big of [false, true]) {
      const s = body(big);
      // The same value spelled with other whitespace, so that the comparer parses both bodies.
      const [ra, rb] = [json(s), json(s.replace(/,"/g, ', "'))];
      const native = perOp(() => JSON.parse(s));
      const exact = perOp(() => parseJsonExact(s));
      const compare = perOp(() => compareResponses(ra, rb, policy));
      const label = `1 KiB JSON (${Buffer.byteLength(s)} B${big ? ', ids > 2^53' : ''})`;
      process.stdout.write(`${label.padEnd(44)} JSON.parse ${native.toFixed(2)} µs CPU  exact parse ${exact.toFixed(2)} µs (${(exact / native).toFixed(2)}×)  compareResponses (2 bodies) ${compare.toFixed(2)} µs\n`);
    }
    return;
  }
  await import('diff'); // loaded once by rulesDiffText; not part of the time
  const [a, b] = texts(arg);
  const ra = text(a);
  const rb = text(b);
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const rss0 = process.resourceUsage().maxRSS;
  const t = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  if (name === 'text') compareResponses(ra, rb, policy);
  else await rulesDiffText(a, b, 'version 1', 'version 2');
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  const heap = (process.memoryUsage().heapUsed - heap0) / 1048576;
  const rss = (process.resourceUsage().maxRSS - rss0) / 1024;
  const label = `${name === 'text' ? 'comparer, text body' : 'rules diff'}: ${arg} of ${LINES} lines changed`;
  process.stdout.write(`${label.padEnd(44)} ${ms.toFixed(1).padStart(8)} ms (CPU ${((cpu.user + cpu.system) / 1000).toFixed(1)} ms)  heap +${heap.toFixed(1)} MB  peak RSS +${rss.toFixed(1)} MB\n`);
}

const [, , name, arg] = process.argv;
if (name) await runCase(name, Number(arg));
else {
  process.stdout.write(`node ${process.version}\n`);
  const self = fileURLToPath(import.meta.url);
  for (const [c, n] of [['json', 0], ['text', 1000], ['text', 3000], ['rules', 1000], ['rules', 3000]] as const) {
    process.stdout.write(execFileSync(process.execPath, ['--expose-gc', self, c, String(n)], { encoding: 'utf8' }));
  }
}
