/**
 * Issue 11 item 8: SIGHUP re-reads the rules file and never stops the gateway; SIGTERM still
 * drains and exits 0. A real `switchyard gateway` process.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess } from '../helpers/process.js';
import { echoBackend, send, type TestServer } from '../helpers/servers.js';

describe('signals', () => {
  let legacy: TestServer;
  let pipeline: TestServer;
  let g: Awaited<ReturnType<typeof startGatewayProcess>>;

  beforeAll(async () => {
    legacy = await echoBackend('legacy');
    pipeline = await echoBackend('pipeline');
    g = await startGatewayProcess({
      backends: { legacy: legacy.url, pipeline: pipeline.url },
      rules: 'default: legacy\nroutes: []\n',
      // Not watched: only SIGHUP can make the gateway read the edit.
      rulesBlock: (file) => `rules:\n  file: "${file}"\n  watch: false`,
    });
  });
  afterAll(async () => {
    await g.stop();
    await legacy.close();
    await pipeline.close();
  });

  it('re-reads the rules file on SIGHUP, logs it, and keeps serving', async () => {
    expect((await send(g.url + '/x')).headers['x-served-by']).toBe('legacy');
    writeFileSync(g.rulesFile, 'default: pipeline\nroutes: []\n');
    g.proc.child.kill('SIGHUP');
    await expect.poll(async () => (await send(g.url + '/x')).headers['x-served-by'], { timeout: 10_000 }).toBe('pipeline');
    expect(g.stderr()).toMatch(/"signal":"SIGHUP".*"msg":"reloading"|"msg":"reloading".*"signal":"SIGHUP"/);
    // A second SIGHUP with an invalid file keeps the active rules and the process.
    writeFileSync(g.rulesFile, 'default: nowhere\n');
    g.proc.child.kill('SIGHUP');
    await expect.poll(() => g.stderr(), { timeout: 10_000 }).toMatch(/rules file invalid/);
    expect((await send(g.url + '/x')).headers['x-served-by']).toBe('pipeline');
    expect(g.proc.child.exitCode).toBeNull();
  });

  it('still stops on SIGTERM with exit code 0', async () => {
    g.proc.child.kill('SIGTERM');
    expect(await g.proc.exited).toBe(0);
  });
});
