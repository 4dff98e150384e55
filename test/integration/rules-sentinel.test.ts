import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuleStore } from '../../src/store/rule-store.js';
import { startGateway, type TestGateway, tempDir } from '../helpers/gateway.js';
import { freePort, TestRedis } from '../helpers/redis.js';
import { echoBackend, send, type TestServer } from '../helpers/servers.js';

// A real redis-sentinel in front of a real redis-server, both on ephemeral ports.
describe('rules through Redis Sentinel', () => {
  let redis: TestRedis;
  let sentinel: ChildProcess;
  let sentinelPort: number;
  let legacy: TestServer;
  let pipeline: TestServer;
  let g: TestGateway;

  beforeAll(async () => {
    redis = await TestRedis.start();
    sentinelPort = await freePort();
    const dir = tempDir('switchyard-sentinel-');
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      `port ${sentinelPort}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor demo 127.0.0.1 ${redis.port} 1\nsentinel down-after-milliseconds demo 2000\n`,
    );
    sentinel = spawn('redis-sentinel', [conf], { stdio: 'ignore' });
    // Wait until the sentinel knows the master.
    const probe = new Redis(sentinelPort, '127.0.0.1', { lazyConnect: true, retryStrategy: () => 100, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    let master: unknown = null;
    // Polls (100 ms apart, capped at 60 s) until the sentinel answers with the master.
    for (const deadline = Date.now() + 60_000; !master && Date.now() < deadline; ) {
      try {
        if (probe.status !== 'ready') await probe.connect();
        master = await probe.call('SENTINEL', 'get-master-addr-by-name', 'demo');
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    probe.disconnect();
    expect(master).toEqual(['127.0.0.1', String(redis.port)]);
    legacy = await echoBackend('legacy');
    pipeline = await echoBackend('pipeline');
    g = await startGateway({
      backends: { legacy: legacy.url, pipeline: pipeline.url },
      rules: 'default: legacy\n',
      rulesBlock: (f) => `rules:\n  file: "${f}"\n  redis:\n    sentinels: ["127.0.0.1:${sentinelPort}"]\n    sentinel_name: demo\n    prefix: "s1:"`,
    });
  });
  afterAll(async () => {
    await g?.stop();
    sentinel?.kill('SIGKILL');
    await legacy?.close();
    await pipeline?.close();
    await redis?.stop();
  });

  it('finds the master through the sentinel and applies a push', async () => {
    const c = redis.client();
    await new RuleStore(c, 's1:').push('default: pipeline\n', { author: 't', message: 'via sentinel' });
    await expect.poll(async () => (await send(g.url + '/x')).headers['x-switchyard-backend']).toBe('pipeline');
    expect(JSON.parse((await send(g.admin + '/rules')).body)).toMatchObject({ version: 1, source: 'redis' });
    c.disconnect();
  });
});
