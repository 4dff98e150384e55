import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess } from '../helpers/process.js';
import { echoBackend, send, type TestServer } from '../helpers/servers.js';

/** The access lines of a process's stderr whose request id starts with `prefix`. */
const accessLines = (stderr: string, prefix: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { kind?: string; request_id?: string })
    .filter((l) => l.kind === 'access' && l.request_id?.startsWith(prefix));

describe('buffered access log: no line lost', () => {
  let origin: TestServer;
  beforeAll(async () => {
    origin = await echoBackend('legacy');
  });
  afterAll(() => origin.close());

  it('a gateway process under a burst of N requests, then SIGTERM, wrote exactly N access lines', async () => {
    const g = await startGatewayProcess({ backends: { legacy: origin.url }, rules: 'default: legacy\n' });
    const n = 400;
    // In waves of 50 concurrent requests; SIGTERM as soon as the last answer arrives, while the
    // last lines are still in the buffer (it is written every 100 ms or 32 KiB).
    for (let wave = 0; wave < n; wave += 50) {
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => send(`${g.url}/burst/${wave + i}`, { headers: { 'x-request-id': `burst-${wave + i}` } })));
      expect(answers.every((a) => a.status === 200)).toBe(true);
    }
    await g.stop();
    expect(await g.proc.exited).toBe(0);
    const ids = accessLines(g.stderr(), 'burst-').map((l) => l.request_id);
    expect(ids).toHaveLength(n);
    expect(new Set(ids).size).toBe(n);
  });

  it('writes the buffered lines when the process exits without a stop (process.exit)', async () => {
    const lib = resolve('dist/log');
    const script = `
      import { createLogger } from '${lib}/logger.js';
      import { AccessLog } from '${lib}/access-log.js';
      const access = AccessLog.of(createLogger('info'), { access: true, accessSample: 1 });
      for (let i = 0; i < 1000; i++) access.write({ request_id: 'exit-' + i, status: 200, bytes_in: 1, bytes_out: 2 });
      process.exit(0);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise((r) => child.once('close', r));
    expect(code).toBe(0);
    expect(accessLines(stderr, 'exit-')).toHaveLength(1000);
  });
});
