/**
 * `npm run bench:propagation`: time from `rules push` to applied on 3 gateway processes.
 * Starts its own redis-server on an ephemeral port and three gateways; pushes N versions; for
 * each, polls every gateway's GET /rules (every 2 ms) until it reports the new version.
 * Prints the median and the maximum over all (push, gateway) pairs. Not a test: it asserts nothing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { RuleStore } from '../dist/store/rule-store.js';

const PUSHES = Number(process.argv[2] ?? 30);
const ROOT = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'switchyard-propagation-'));
const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return p;
}

function start(cmd: string, args: string[], ready: RegExp): Promise<RegExpExecArray> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  return new Promise((res, rej) => {
    const on = (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) res(m);
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', (code) => rej(new Error(`${cmd} exited ${code}: ${out}`)));
  });
}

async function main(): Promise<void> {
  const redisPort = await freePort();
  await start(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    /Ready to accept connections/,
  );
  const url = `redis://127.0.0.1:${redisPort}`;
  const client = new Redis(url);
  const store = new RuleStore(client, 'prop:');
  await store.push('default: legacy\n', { author: 'bench', message: 'v1' });
  writeFileSync(join(dir, 'rules.yaml'), 'default: legacy\n');
  const admins: number[] = [];
  for (let i = 0; i < 3; i++) {
    const cfg = join(dir, `gw${i}.yaml`);
    writeFileSync(
      cfg,
      `listen: "127.0.0.1:0"\nadmin: { listen: "127.0.0.1:0" }\nbackends: { legacy: { url: "http://127.0.0.1:9" } }\nrules: { file: rules.yaml, redis: { url: "${url}", prefix: "prop:", snapshot: "snap${i}.json" } }\nlog: { level: info, access: false }\n`,
    );
    const m = await start(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'gateway', '--config', cfg], /"listen":\d+,"admin":(\d+)/);
    admins.push(Number(m[1]));
  }
  const versionOf = async (port: number) => ((await (await request(`http://127.0.0.1:${port}/rules`)).body.json()) as { version: number }).version;
  const times: number[] = [];
  for (let i = 0; i < PUSHES; i++) {
    const t0 = performance.now();
    const v = await store.push(`# ${i}\ndefault: legacy\n`, { author: 'bench', message: `push ${i}` });
    await Promise.all(
      admins.map(async (port) => {
        while ((await versionOf(port)) !== v) await new Promise((r) => setTimeout(r, 2));
        times.push(performance.now() - t0);
      }),
    );
    await new Promise((r) => setTimeout(r, 50));
  }
  client.disconnect();
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  process.stdout.write(
    `push → applied on 3 gateways, ${PUSHES} pushes (${times.length} samples, 2 ms polling): median ${median.toFixed(1)} ms, max ${times.at(-1)!.toFixed(1)} ms\n`,
  );
}

main()
  .catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
