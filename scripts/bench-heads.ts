/**
 * `npm run bench:heads [-- --against DIR] [--calls N]`: instructions per call of the HTTP/1.1
 * client's head work, counted by valgrind's callgrind: reading a 5-header response head and
 * copying its headers as the forwarder does (parseResponseHead + withoutHopByHop), and writing a
 * 9-header request head as the gateway sends it (requestHead). `--against DIR` loads a second
 * built checkout's code beside this one's (`npm run bench:baseline -- REF DIR` makes one), so
 * that before and after are counted in one process, each call warm.
 *
 * Once settled, the count of the same loop repeats to within a fraction of a percent (no I/O, no
 * timers; the collector's and the compilers' share is left out: bench/callgrind.ts), so a change
 * of a few hundred instructions per call shows, where `npm run bench` on a shared VM could not
 * tell one of a few percent per request. A loop's first runs may still be settling (26,206,
 * 15,022, 12,899, 12,899 here), so the least of 4 runs is printed, with each run's. A script, not
 * a test: it prints, it asserts nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { countsOf } from './bench/callgrind.js';

const { values } = parseArgs({
  options: {
    against: { type: 'string' },
    calls: { type: 'string', default: '20000' },
    repeats: { type: 'string', default: '4' },
    child: { type: 'boolean', default: false },
  },
});
const ROOT = resolve(import.meta.dirname, '..');
const calls = Number(values.calls);

const RESPONSE_HEAD =
  'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1024\r\nDate: Fri, 27 Nov 2026 21:28:45 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65';
const REQUEST = {
  method: 'GET',
  path: '/api/items?page=2',
  body: null,
  headers: {
    host: '127.0.0.1:8080',
    'user-agent': 'curl/8.5.0',
    accept: '*/*',
    'x-forwarded-for': '127.0.0.1',
    'x-forwarded-proto': 'http',
    'x-forwarded-host': '127.0.0.1:8080',
    'x-request-id': '93a49c5b-81e7-4af6-9800-5b80dc8ea044',
    'x-switchyard-route': 'items',
    traceparent: '00-b2019fa7ab60a9217fff39d0922d2537-1234567890abcdef-01',
  },
};

type Fn = () => number;

/** The child, under valgrind: loads each checkout, warms every loop, then runs one per line read. */
async function child(): Promise<void> {
  const roots: [string, string][] = [['this', ROOT]];
  if (values.against) roots.push(['against', resolve(values.against)]);
  // The head as a socket gives it: a fresh string per call.
  const wire = Buffer.from(RESPONSE_HEAD, 'latin1');
  const loops: Record<string, Fn> = { empty: () => wire.toString('latin1').length };
  for (const [label, root] of roots) {
    const r = await import(join(root, 'dist', 'http', 'h1-response.js'));
    const p = await import(join(root, 'dist', 'forward', 'h1-pool.js'));
    const h = await import(join(root, 'dist', 'http', 'headers.js'));
    loops[`response head: ${label}`] = () => Object.keys(h.withoutHopByHop(r.parseResponseHead(wire.toString('latin1')).headers)).length;
    loops[`request head: ${label}`] = () => p.requestHead(REQUEST, '127.0.0.1:8080').length;
  }
  let sink = 0;
  for (const f of Object.values(loops)) for (let i = 0; i < 100_000; i++) sink += f();
  process.stdout.write(`warm ${sink > 0}\nready ${JSON.stringify(Object.keys(loops))}\n`);
  for await (const name of createInterface({ input: process.stdin })) {
    for (let i = 0; i < calls; i++) sink += loops[name]!();
    process.stdout.write(`done ${sink > 0}\n`);
  }
}

/** The program's instructions in a dump, without the collector's and the compilers'. */
function ownInstructions(file: string): number {
  const c = countsOf(file);
  return c.total - c.gc - c.jit;
}

async function main(): Promise<void> {
  if (spawnSync('valgrind', ['--version']).error) throw new Error('valgrind is missing (Debian: apt-get install valgrind)');
  const workdir = mkdtempSync(join(tmpdir(), 'switchyard-heads-'));
  const out = join(workdir, 'heads');
  const args = [
    '--tool=callgrind',
    '--instr-atstart=no',
    `--callgrind-out-file=${out}.%p`,
    process.execPath,
    process.argv[1]!,
    '--child',
    '--calls',
    String(calls),
  ];
  if (values.against) args.push('--against', values.against);
  const vg = spawn('valgrind', args, { stdio: ['pipe', 'pipe', 'ignore'] });
  const lines = createInterface({ input: vg.stdout! })[Symbol.asyncIterator]();
  const next = async (prefix: string) => {
    for (;;) {
      const { value, done } = await lines.next();
      if (done) throw new Error('the child under valgrind ended');
      if (value.startsWith(prefix)) return value;
    }
  };
  const names = JSON.parse((await next('ready ')).slice(6)) as string[];
  const ctl = (...a: string[]) => spawnSync('callgrind_control', [...a, String(vg.pid)], { stdio: 'ignore' });
  const counts = new Map<string, number[]>();
  for (let r = 0; r < Number(values.repeats); r++) {
    for (const name of names) {
      const before = new Set(readdirSync(workdir));
      ctl('--zero');
      ctl('--instr=on');
      vg.stdin!.write(`${name}\n`);
      await next('done ');
      ctl('--instr=off');
      ctl('--dump');
      const dump = readdirSync(workdir).find((f) => f.startsWith('heads.') && !before.has(f))!;
      counts.set(name, [...(counts.get(name) ?? []), ownInstructions(join(workdir, dump)) / calls]);
    }
  }
  // Its last dump is written as it exits: the folder goes after.
  const exited = once(vg, 'exit');
  vg.kill();
  await exited;
  rmSync(workdir, { recursive: true, force: true });
  const empty = Math.min(...counts.get('empty')!);
  process.stdout.write(`instructions per call (least of ${values.repeats} runs of ${calls} calls, less the empty loop's ${Math.round(empty)}):\n`);
  for (const name of names.filter((n) => n !== 'empty')) {
    const xs = counts.get(name)!.map((x) => Math.round(x - empty));
    process.stdout.write(`  ${name.padEnd(24)} ${String(Math.min(...xs)).padStart(7)}   (runs: ${xs.join(', ')})\n`);
  }
}

if (values.child) await child();
else
  await main().catch((err: Error) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exitCode = 1;
  });
