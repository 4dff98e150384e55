import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuleStore } from '../../src/store/rule-store.js';
import { adminAuth, gatewayYaml, tempDir } from '../helpers/gateway.js';
import { metric, metricValue } from '../helpers/metrics.js';
import { CLI } from '../helpers/process.js';
import { TestRedis } from '../helpers/redis.js';
import { echoBackend, send, type TestServer, waitFor } from '../helpers/servers.js';

describe('gateway with --workers', () => {
  let backend: TestServer;
  let child: ChildProcess;
  let log = '';
  let port = 0;
  let admin = 0;
  let publicAdmin = 0;
  const workerPids = () => [...log.matchAll(/"worker_pid":(\d+),"msg":"worker ready"/g)].map((m) => Number(m[1]));
  const total = () => metric(`http://127.0.0.1:${admin}`, 'switchyard_requests_total');

  beforeAll(async () => {
    backend = await echoBackend('legacy');
    const dir = tempDir();
    writeFileSync(join(dir, 'rules.yaml'), 'default: legacy\n');
    const config = join(dir, 'gateway.yaml');
    writeFileSync(config, gatewayYaml({ backends: { legacy: backend.url }, rules: '', admin: 'public_listen: "127.0.0.1:0"' }, join(dir, 'rules.yaml')));
    child = spawn(process.execPath, [CLI, 'gateway', '--config', config, '--workers', '2', '--drain', '2'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    await waitFor(() => workerPids().length === 2, 60_000, 'two workers');
    admin = Number(/"admin":(\d+),"workers":2/.exec(log)![1]);
    publicAdmin = Number(/"workers":2,"public_admin":(\d+)/.exec(log)![1]);
    port = Number(/"listen":(\d+)/.exec(log)![1]);
  });
  afterAll(async () => {
    child.kill('SIGKILL');
    for (const pid of workerPids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await backend.close();
  });

  it('serves on one port from both workers and aggregates /metrics', async () => {
    const before = await total();
    for (let i = 0; i < 20; i++) expect((await send(`http://127.0.0.1:${port}/x${i}`)).status).toBe(200);
    await expect.poll(total).toBe(before + 20);
    // Both workers wrote access lines (they reach this process through a pipe: poll).
    await expect.poll(() => new Set([...log.matchAll(/"pid":(\d+),"worker":\d+,"kind":"access"/g)].map((m) => m[1])).size).toBe(2);
  });

  it('needs the admin token for /diffs, and serves probes and metrics on admin.public_listen', async () => {
    expect((await send(`http://127.0.0.1:${admin}/diffs`)).status).toBe(401);
    expect(JSON.parse((await send(`http://127.0.0.1:${admin}/diffs`, { headers: adminAuth })).body)).toMatchObject({ routes: [], workers: 2 });
    const pub = `http://127.0.0.1:${publicAdmin}`;
    expect(JSON.parse((await send(`${pub}/healthz`)).body)).toMatchObject({ status: 'ok', workers: 2 });
    expect((await send(`${pub}/readyz`)).status).toBe(200);
    expect((await send(`${pub}/metrics`)).body).toMatch(/^switchyard_requests_total\{/m);
    expect((await send(`${pub}/diffs`, { headers: adminAuth })).status).toBe(404);
  });

  it('does not fail the scrape when a worker hangs', async () => {
    const [stuck] = workerPids();
    process.kill(stuck!, 'SIGSTOP');
    try {
      // Answered at all (the stopped worker never will) ...
      const r = await send(`http://127.0.0.1:${admin}/metrics`);
      expect(r.status).toBe(200);
      expect(r.body).toMatch(/switchyard_requests_total/);
      // ... and, once the live worker answers within the scrape budget (under load it may not,
      // every time), with its count alone: some of the 20, not all.
      const served = async () => metricValue((await send(`http://127.0.0.1:${admin}/metrics`)).body, 'switchyard_requests_total');
      await expect
        .poll(async () => {
          const n = await served();
          return n > 0 && n < 20;
        })
        .toBe(true);
    } finally {
      process.kill(stuck!, 'SIGCONT');
    }
  });

  it('replaces a worker that dies, and keeps serving', async () => {
    const [victim] = workerPids();
    process.kill(victim!, 'SIGKILL');
    await expect.poll(() => log).toMatch(/worker died; starting a replacement/);
    await expect.poll(() => workerPids().length).toBe(3);
    for (let i = 0; i < 6; i++) expect((await send(`http://127.0.0.1:${port}/after${i}`)).status).toBe(200);
  });

  it('stops every worker on SIGTERM and exits 0; idle workers drain and exit on their own', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    const before = log.length;
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const pid of workerPids()) expect(() => process.kill(pid, 0)).toThrow();
    const after = log.slice(before);
    // Each worker logs its own drain, and exits by itself (code 0, no signal): the primary never
    // had to SIGKILL it at the drain deadline.
    expect(after.match(/"msg":"worker drained"/g)).toHaveLength(2);
    const exits = [...after.matchAll(/^.*"msg":"worker exited".*$/gm)].map((m) => JSON.parse(m[0]) as { code: number | null; signal: string | null });
    expect(exits).toEqual([expect.objectContaining({ code: 0, signal: null }), expect.objectContaining({ code: 0, signal: null })]);
    expect(after).not.toMatch(/SIGKILL/);
  });
});

describe('--workers 2 gauges', () => {
  let redis: TestRedis;
  let legacy: TestServer;
  let pipeline: TestServer;
  const children: { child: ChildProcess; log: () => string }[] = [];
  const GAUGES = [
    'switchyard_rules_version',
    'switchyard_rules_source',
    'switchyard_route_weight',
    'switchyard_rules_redis_connected',
    'switchyard_backend_host_healthy',
  ];

  function start(config: string, args: string[]) {
    const child = spawn(process.execPath, [CLI, 'gateway', '--config', config, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let text = '';
    child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
    const c = { child, log: () => text };
    children.push(c);
    return c;
  }
  const gauges = async (admin: number) => {
    const text = (await send(`http://127.0.0.1:${admin}/metrics`)).body;
    return text
      .split('\n')
      .filter((l) => GAUGES.some((g) => l.startsWith(g + ' ') || l.startsWith(g + '{')))
      .sort();
  };

  beforeAll(async () => {
    redis = await TestRedis.start();
    legacy = await echoBackend('legacy');
    pipeline = await echoBackend('pipeline');
    const client = redis.client();
    const store = new RuleStore(client, 'w:');
    for (let v = 1; v <= 3; v++) {
      await store.push(`# v${v}\ndefault: legacy\nroutes:\n  - { name: ramp, match: { path: "/ramp/**" }, split: { legacy: 50, pipeline: 50 } }\n`, {
        author: 'test',
        message: `v${v}`,
      });
    }
    client.disconnect();
  });
  afterAll(async () => {
    for (const { child } of children) child.kill('SIGKILL');
    await Promise.all([legacy.close(), pipeline.close()]);
    await redis.stop();
  });

  it('equal those of a single process under the same rules', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'rules.yaml'), 'default: legacy\n');
    const config = join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      gatewayYaml(
        {
          backends: {
            // One live host and one that refuses: host health 1 and 0, from every worker.
            legacy: `{ urls: ["${legacy.url}", "http://127.0.0.1:9"], health: { path: /, interval: 100ms, timeout: 100ms } }`,
            pipeline: pipeline.url,
          },
          rules: '',
          rulesBlock: (rulesFile) => `rules:\n  file: "${rulesFile}"\n  redis:\n    url: "${redis.url}"\n    prefix: "w:"\n    snapshot: "snap.json"`,
        },
        join(dir, 'rules.yaml'),
      ),
    );
    const single = start(config, []);
    const multi = start(config, ['--workers', '2']);
    await waitFor(() => /"admin":(\d+)/.test(single.log()) && /"admin":(\d+),"workers":2/.test(multi.log()), 15_000, 'both started');
    await waitFor(() => (multi.log().match(/"msg":"worker ready"/g) ?? []).length === 2, 15_000, 'two workers');
    const singleAdmin = Number(/"admin":(\d+)/.exec(single.log())![1]);
    const multiAdmin = Number(/"admin":(\d+),"workers":2/.exec(multi.log())![1]);

    const expected = [
      'switchyard_backend_host_healthy{backend="legacy",host="http://127.0.0.1:9"} 0',
      `switchyard_backend_host_healthy{backend="legacy",host="${legacy.url}"} 1`,
      `switchyard_backend_host_healthy{backend="pipeline",host="${pipeline.url}"} 1`,
      'switchyard_rules_redis_connected 1',
      'switchyard_rules_source{source="redis"} 1',
      'switchyard_rules_version 3',
      'switchyard_route_weight{route="ramp",backend="legacy"} 50',
      'switchyard_route_weight{route="ramp",backend="pipeline"} 50',
    ];
    await expect
      .poll(async () => (await gauges(singleAdmin)).filter((l) => !/ 0$/.test(l) || l.includes('host_healthy')), { timeout: 15_000 })
      .toEqual(expected.sort());
    await expect.poll(() => gauges(multiAdmin), { timeout: 15_000 }).toEqual(await gauges(singleAdmin));
  });
});
