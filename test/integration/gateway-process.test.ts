import { writeFileSync } from 'node:fs';
import { request, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayYaml, tempDir } from '../helpers/gateway.js';
import { type GatewayProcess, spawnGateway } from '../helpers/process.js';
import { startServer, type TestServer } from '../helpers/servers.js';

// Backpressure through the gateway is measured in backpressure.test.ts, in-process, where the
// gateway's own buffers can be seen; this file keeps what only a real process shows: signals.
describe('gateway process', () => {
  let backend: TestServer;
  let gw: GatewayProcess;
  /** Responses the backend holds until the test lets them go. */
  const held: ServerResponse[] = [];

  beforeAll(async () => {
    backend = await startServer((req, res) => {
      req.resume();
      held.push(res);
    });
    const dir = tempDir();
    writeFileSync(join(dir, 'rules.yaml'), 'default: legacy\n');
    const config = join(dir, 'gateway.yaml');
    writeFileSync(config, gatewayYaml({ backends: { legacy: backend.url }, rules: '', responseTimeout: '30s' }, join(dir, 'rules.yaml')));
    gw = await spawnGateway(config, ['--drain', '30']);
  });
  afterAll(async () => {
    gw.child.kill('SIGKILL');
    await backend.close();
  });

  it('finishes in-flight requests on SIGTERM and exits 0', async () => {
    const inflight = Array.from({ length: 5 }, () => get(gw.port, '/slow'));
    // In flight: the backend has all five and answers none yet.
    await expect.poll(() => held.length).toBe(5);
    gw.child.kill('SIGTERM');
    // The gateway has begun to stop (and to drain) before any answer exists.
    await expect.poll(() => gw.stderr()).toMatch(/"msg":"stopping"/);
    for (const res of held) res.end('done');
    const results = await Promise.all(inflight);
    expect(results).toEqual(Array(5).fill({ status: 200, body: 'done' }));
    expect(await gw.exited).toBe(0);
    expect(gw.stderr()).toMatch(/"msg":"stopped"/);
  });
});

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(`http://127.0.0.1:${port}${path}`, { agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}
