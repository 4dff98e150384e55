import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, send, waitFor, type TestServer } from '../helpers/servers.js';
import { adminAuth, gatewayYaml, tempDir } from '../helpers/gateway.js';
import { CLI } from '../helpers/process.js';

describe('gateway with --workers', () => {
  let backend: TestServer;
  let child: ChildProcess;
  let log = '';
  let port = 0;
  let admin = 0;
  let publicAdmin = 0;
  const workerPids = () => [...log.matchAll(/"worker_pid":(\d+),"msg":"worker ready"/g)].map((m) => Number(m[1]));
  const total = async () => {
    const text = (await send(`http://127.0.0.1:${admin}/metrics`)).body;
    return [...text.matchAll(/^switchyard_requests_total\{[^}]*\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
  };

  beforeAll(async () => {
    backend = await echoBackend('legacy');
    const dir = tempDir();
    writeFileSync(join(dir, 'rules.yaml'), 'default: legacy\n');
    const config = join(dir, 'gateway.yaml');
    writeFileSync(config, gatewayYaml({ backends: { legacy: backend.url }, rules: '', admin: 'public_listen: "127.0.0.1:0"' }, join(dir, 'rules.yaml')));
    child = spawn(process.execPath, [CLI, 'gateway', '--config', config, '--workers', '2', '--drain', '2'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    await waitFor(() => workerPids().length === 2, 15_000, 'two workers');
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
    for (let i = 0; i < 20; i++) expect((await send(`http://127.0.0.1:${port}/x${i}`)).status).toBe(200);
    expect(await total()).toBe(20);
    const served = new Set([...log.matchAll(/"pid":(\d+),"worker":\d+,"kind":"access"/g)].map((m) => m[1]));
    expect(served.size).toBe(2);
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
      const start = Date.now();
      const r = await send(`http://127.0.0.1:${admin}/metrics`);
      expect(r.status).toBe(200);
      expect(r.body).toMatch(/switchyard_requests_total/);
      expect(Date.now() - start).toBeLessThan(5000);
    } finally {
      process.kill(stuck!, 'SIGCONT');
    }
  });

  it('replaces a worker that dies, and keeps serving', async () => {
    const [victim] = workerPids();
    process.kill(victim!, 'SIGKILL');
    await expect.poll(() => log, { timeout: 10_000 }).toMatch(/worker died; starting a replacement/);
    await expect.poll(() => workerPids().length, { timeout: 15_000 }).toBe(3);
    for (let i = 0; i < 6; i++) expect((await send(`http://127.0.0.1:${port}/after${i}`)).status).toBe(200);
  });

  it('stops every worker on SIGTERM and exits 0', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const pid of workerPids()) expect(() => process.kill(pid, 0)).toThrow();
  });
});
