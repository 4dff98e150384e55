import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPipelineConfig } from '../../src/pipeline/pipeline-config.js';
import { ConfigError, formatIssue } from '../../src/config/yaml-source.js';
import { tempDir } from '../helpers/gateway.js';
import { CLI } from '../helpers/process.js';
import { rawExchange } from '../helpers/raw.js';
import { echoBackend, send, waitFor, type TestServer } from '../helpers/servers.js';

describe('the pipeline service writes an access log', () => {
  let origin: TestServer;
  let child: ChildProcess;
  let dir: string;
  let url: string;
  let port: number;
  let stderr = '';

  const access = () =>
    stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.kind === 'access');
  const lineOf = (id: string) => access().find((l) => l.request_id === id);

  beforeAll(async () => {
    origin = await echoBackend('origin');
    dir = tempDir();
    writeFileSync(join(dir, 'products.yaml'), `origin: { url: "${origin.url}" }\nwaf:\n  - { id: "1004", field: "header:x-attack", pattern: "." }\n`);
    // The same log keys as the gateway's config.
    writeFileSync(join(dir, 'pipeline.yaml'), 'listen: "127.0.0.1:0"\nadmin: { listen: "127.0.0.1:0" }\nproducts: products.yaml\nlog: { level: info, access: true, access_sample: 1 }\n');
    child = spawn(process.execPath, [CLI, 'pipeline', '--config', join(dir, 'pipeline.yaml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    await waitFor(() => /"listen":\d+/.test(stderr), 15_000, 'the pipeline to start');
    port = Number(/"listen":(\d+)/.exec(stderr)![1]);
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    await origin.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('one line per request, the same shape as the gateway', async () => {
    expect((await send(url + '/api/items?x=1', { headers: { 'x-request-id': 'p-1' } })).status).toBe(200);
    await expect.poll(() => lineOf('p-1')).toBeDefined();
    const line = lineOf('p-1')!;
    expect(line).toMatchObject({ level: 30, method: 'GET', path: '/api/items', status: 200, duration_ms: expect.any(Number), bytes_out: expect.any(Number) });
    expect(line.bytes_in).toBeGreaterThan('GET /api/items?x=1 HTTP/1.1\r\n'.length);
    expect(line.reply).toBeUndefined();
    expect(line.route).toBeUndefined(); // the pipeline has no routes: fields that do not apply are left out
  });

  it("names a module's local reply in `reply`", async () => {
    expect((await send(url + '/x', { headers: { 'x-request-id': 'p-2', 'x-attack': '1' } })).status).toBe(403);
    await expect.poll(() => lineOf('p-2')).toBeDefined();
    expect(lineOf('p-2')).toMatchObject({ status: 403, reply: 'waf:1004' });
  });

  it('logs a request the parser refused, with its reason', async () => {
    const data = 'GARBAGE\r\n\r\n';
    const r = await rawExchange(port, data);
    expect(r.status).toBe(400);
    await expect.poll(() => access().filter((l) => l.error === 'bad_request')).toHaveLength(1);
    expect(access().find((l) => l.error === 'bad_request')).toMatchObject({ status: 400, bytes_in: Buffer.byteLength(data), bytes_out: Buffer.byteLength(r.text) });
  });
});

describe('pipeline config: log keys', () => {
  function load(text: string) {
    const dir = tempDir();
    try {
      writeFileSync(join(dir, 'pipeline.yaml'), text);
      return loadPipelineConfig(join(dir, 'pipeline.yaml'), {});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('reads log.access and log.access_sample, access on by default', () => {
    expect(load('products: p.yaml\n').log).toEqual({ level: 'info', access: true, accessSample: 1 });
    expect(load('products: p.yaml\nlog: { access: false, access_sample: 0.25 }\n').log).toEqual({ level: 'info', access: false, accessSample: 0.25 });
  });

  it('refuses an access_sample over 1, naming line, column and key', () => {
    let issues: string[] = [];
    try {
      load('products: p.yaml\nlog:\n  access_sample: 2\n');
    } catch (err) {
      issues = (err as ConfigError).issues.map(formatIssue);
    }
    expect(issues).toEqual([expect.stringMatching(/pipeline\.yaml:3:18: log\.access_sample: /)]);
  });
});
