import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, send, waitFor, type TestServer } from '../helpers/servers.js';
import { adminAuth, gatewayYaml, tempDir } from '../helpers/gateway.js';
import { metric, metricValue } from '../helpers/metrics.js';
import { CLI } from '../helpers/process.js';

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
      await expect.poll(async () => { const n = await served(); return n > 0 && n < 20; }).toBe(true);
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

  it('stops every worker on SIGTERM and exits 0', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const pid of workerPids()) expect(() => process.kill(pid, 0)).toThrow();
  });
});
