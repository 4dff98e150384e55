/**
 * Load generation for the benchmark: wrk when installed (C, cheap per request), autocannon (npm)
 * otherwise. Every run is bounded by duration, targets loopback only, and stops by itself.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LoadResult {
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  requests: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  /** CPU list for taskset (e.g. "0"), when pinning is possible. */
  cpus?: string;
  /** Paths to rotate through (a request mix); wrk only, autocannon hits `url` alone. */
  paths?: readonly string[];
  /**
   * Paced load (wrk only): each connection waits this long before its next request, so that the
   * rate stays near connections × 1000 / (delayMs + latency) instead of saturating the proxy.
   */
  delayMs?: number;
}

export const hasWrk = spawnSync('wrk', ['--version']).error === undefined;
export const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

export function loadTool(): string {
  return hasWrk ? 'wrk' : 'autocannon';
}

function run(cmd: string, args: string[], cpus?: string): Promise<string> {
  const [c, a] = cpus && hasTaskset ? ['taskset', ['-c', cpus, cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const child = spawn(c, a as string[], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', () => resolve(out));
  });
}

/** A wrk Lua script that rotates through `paths` (when given) and waits `delayMs` before each request (when given). */
function wrkScript(paths: readonly string[] | undefined, delayMs: number | undefined): string {
  const file = join(mkdtempSync(join(tmpdir(), 'switchyard-wrk-')), 'mix.lua');
  let lua = '';
  if (paths?.length) {
    const list = paths.map((p) => `wrk.format("GET", ${JSON.stringify(p)})`).join(',\n    ');
    // Built in init(): wrk sets the Host header only after the script has loaded.
    lua += `local reqs\nlocal i = 0\ninit = function()\n  reqs = {\n    ${list}\n  }\nend\nrequest = function()\n  i = i % #reqs + 1\n  return reqs[i]\nend\n`;
  }
  if (delayMs) lua += `delay = function()\n  return ${Math.round(delayMs)}\nend\n`;
  writeFileSync(file, lua);
  return file;
}

function ms(value: string, unit: string): number {
  const v = Number(value);
  return unit === 'us' ? v / 1000 : unit === 's' ? v * 1000 : unit === 'm' ? v * 60_000 : v;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  if (!/^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])[:/]/.test(o.url)) throw new Error(`refusing a non-loopback target: ${o.url}`);
  if (hasWrk) {
    const args = ['-t', '1', '-c', String(o.connections), '-d', `${o.seconds}s`, '--latency'];
    if (o.paths?.length || o.delayMs) args.push('-s', wrkScript(o.paths, o.delayMs));
    const out = await run('wrk', [...args, o.url], o.cpus);
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
    const p50 = /\s50%\s+([\d.]+)(us|ms|s|m)/.exec(out);
    const p99 = /\s99%\s+([\d.]+)(us|ms|s|m)/.exec(out);
    const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
    const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
    const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    const sockErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
    return { rps, p50ms: p50 ? ms(p50[1]!, p50[2]!) : NaN, p99ms: p99 ? ms(p99[1]!, p99[2]!) : NaN, errors: non2xx + sockErrors, requests };
  }
  const bin = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  // autocannon's own pacing: the same overall rate as wrk's delay would give at ~1 ms latency.
  const rate = o.delayMs ? ['--overallRate', String(Math.round((o.connections * 1000) / (o.delayMs + 1)))] : [];
  const out = await run(process.execPath, [bin, '--json', '-c', String(o.connections), '-d', String(o.seconds), ...rate, o.url], o.cpus);
  const r = JSON.parse(out.slice(out.indexOf('{'))) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    errors: number;
    non2xx: number;
    timeouts: number;
  };
  return { rps: r.requests.average, p50ms: r.latency.p50, p99ms: r.latency.p99, errors: r.errors + r.non2xx + r.timeouts, requests: r.requests.total };
}
