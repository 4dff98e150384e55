import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { gatewayYaml, tempDir } from '../helpers/gateway.js';
import { type GatewayProcess, spawnGateway } from '../helpers/process.js';

// Node 22+ warns at run time about util._extend (DEP0060), which http-proxy calls on the first
// WebSocket upgrade. The gateway's stderr is JSON lines: a warning must be one of them.
describe('process warnings', () => {
  let wss: WebSocketServer;
  let gw: GatewayProcess;

  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((r) => wss.once('listening', r));
    wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m.toString()}`)));
    const dir = tempDir();
    writeFileSync(join(dir, 'rules.yaml'), 'default: legacy\n');
    const config = join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      gatewayYaml({ backends: { legacy: `http://127.0.0.1:${(wss.address() as { port: number }).port}` }, rules: '' }, join(dir, 'rules.yaml')),
    );
    gw = await spawnGateway(config, ['--drain', '1']);
  });

  afterAll(() => {
    gw.child.kill('SIGKILL');
    wss.close();
  });

  it('keeps stderr JSON lines through a WebSocket upgrade', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/socket`);
    const reply = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('hi'));
      ws.once('message', (m: Buffer) => resolve(m.toString()));
      ws.once('error', reject);
    });
    expect(reply).toBe('echo:hi');
    ws.close();
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
    const lines = gw
      .stderr()
      .split('\n')
      .filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
  });
});
