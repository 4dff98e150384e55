import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestRedis } from '../helpers/redis.js';

/** Whether something can listen on 127.0.0.1:port right now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const s = createServer();
    s.once('error', () => resolvePort(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolvePort(true)));
  });
}

/**
 * A base port for the demo, whose ports are base, base+1, base+10 and base+920
 * (scripts/demo.ts): below Linux's ephemeral range (32768+), where outgoing connections of other
 * tests never take one of them, and each checked free.
 */
async function freePortBlock(): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 11_000);
    const all = await Promise.all([0, 1, 10, 920].map((d) => canListen(base + d)));
    if (all.every(Boolean)) return base;
  }
}

describe('npm run demo', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await TestRedis.start();
  });
  afterAll(async () => {
    await redis.stop();
  });

  async function runDemo(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
    const base = await freePortBlock();
    const child = spawn(process.execPath, [resolve('dist-scripts/demo.js'), ...args, '--base-port', String(base), '--exit'], {
      env: { ...process.env, SWITCHYARD_REDIS_URL: redis.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    return { code, out, err };
  }

  it('starts everything, drives traffic, prints the diff report and where to look, and stops', async () => {
    const { code, out, err } = await runDemo('--duration', '3');
    expect(code, err).toBe(0);
    expect(err).toMatch(/rules from Redis/);
    expect(err).toMatch(/\[#{30}\] 3\/3s/);
    expect(out).toMatch(/^Shadow diff report/m);
    expect(out).toMatch(/^ {2}catalog: \d+ comparisons, match rate 100\.0%/m);
    expect(out).toMatch(/^ {2}volatile: \d+ comparisons/m);
    expect(out).toMatch(/Where to look next:\n {2}metrics {6}curl http:\/\/127\.0\.0\.1:\d+\/metrics/);
    // The Redis it used got the demo's rules under its own prefix.
    const c = redis.client();
    expect(Number(await c.get('switchyard-demo:{rules}:version'))).toBeGreaterThanOrEqual(1);
    c.disconnect();
  });

  it('with --rollout bad, rolls the catalog route back by itself and says how long it took', async () => {
    const { code, out, err } = await runDemo('--rollout', 'bad', '--duration', '60');
    expect(code, err).toBe(0);
    expect(out).toMatch(/^Rollout of catalog \(bad candidate\): rolled_back at 0% \d+\.\d s after the first bad answer/m);
    const c = redis.client();
    const version = await c.get('switchyard-demo:{rules}:version');
    const last = JSON.parse((await c.hget('switchyard-demo:{rules}:versions', version!))!) as { author: string; message: string };
    c.disconnect();
    expect(last.author).toBe('rollout');
    expect(last.message).toMatch(/^rollout catalog: 30% -> 0% \(breach: mismatch_rate lower bound/);
  });
});
