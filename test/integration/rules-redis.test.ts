import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, json, send, type TestServer } from '../helpers/servers.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestRedis } from '../helpers/redis.js';
import { startLoad } from '../helpers/load.js';
import { RuleStore } from '../../src/store/rule-store.js';

const toPipeline = (n: number) => `# v${n}\ndefault: legacy\nroutes:\n  - { name: api, match: { path: "/api/**" }, backend: pipeline }\n`;
const allLegacy = (n: number) => `# v${n}\ndefault: legacy\n`;

describe('rules in redis', () => {
  let redis: TestRedis;
  let legacy: TestServer;
  let pipeline: TestServer;
  let store: RuleStore;
  const gateways: TestGateway[] = [];

  const redisBlock = (prefix: string, snapshotName = 'snap.json') => (rulesFile: string) =>
    `rules:\n  file: "${rulesFile}"\n  redis:\n    url: "${redis.url}"\n    prefix: "${prefix}"\n    poll_interval: 500ms\n    snapshot: "${snapshotName}"`;

  async function gateway(prefix: string, rules = 'default: legacy\n', snapshotName?: string): Promise<TestGateway> {
    const g = await startGateway({ backends: { legacy: legacy.url, pipeline: pipeline.url }, rules, rulesBlock: redisBlock(prefix, snapshotName) });
    gateways.push(g);
    return g;
  }

  const backendOf = async (g: TestGateway, path = '/api/x') => (await send(g.url + path)).headers['x-switchyard-backend'];
  const activeVersion = async (g: TestGateway) => json<{ version: number; source: string }>(await send(g.admin + '/rules'));

  beforeAll(async () => {
    redis = await TestRedis.start();
    legacy = await echoBackend('legacy');
    pipeline = await echoBackend('pipeline');
  });
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await legacy.close();
    await pipeline.close();
    await redis.stop();
  });

  it('loads the active version at start and applies each push', async () => {
    const client = redis.client();
    store = new RuleStore(client, 't1:');
    await store.push(allLegacy(1), { author: 'test', message: 'first' });
    const g = await gateway('t1:');
    expect(await activeVersion(g)).toMatchObject({ version: 1, source: 'redis' });
    expect(await backendOf(g)).toBe('legacy');
    await store.push(toPipeline(2), { author: 'test', message: 'second' });
    await expect.poll(() => backendOf(g), { timeout: 2000 }).toBe('pipeline');
    const metrics = (await send(g.admin + '/metrics')).body;
    expect(metrics).toMatch(/^switchyard_rules_version 2$/m);
    expect(metrics).toMatch(/switchyard_rules_source\{source="redis"\} 1/);
    expect(metrics).toMatch(/switchyard_route_weight\{route="api",backend="pipeline"\} 100/);
    client.disconnect();
  });

  it('lets exactly one of two pushes that expect the same version win', async () => {
    const client = redis.client();
    const s = new RuleStore(client, 't2:');
    const v = await s.push(allLegacy(1), { author: 't', message: '' });
    const results = await Promise.allSettled([
      s.push(toPipeline(2), { author: 'a', message: '', expectVersion: v }),
      s.push(allLegacy(3), { author: 'b', message: '', expectVersion: v }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(String(lost.reason.message)).toMatch(/version conflict: expected version 1, but the active version is 2/);
    expect(await s.activeVersion()).toBe(2);
    client.disconnect();
  });

  it('keeps a bounded history', async () => {
    const client = redis.client();
    const s = new RuleStore(client, 't3:', 3);
    for (let i = 1; i <= 5; i++) await s.push(allLegacy(i), { author: 't', message: `m${i}` });
    expect((await s.history()).map((e) => e.version)).toEqual([5, 4, 3]);
    expect(await s.get(1)).toBeUndefined();
    expect(await client.hlen(s.keys.versions)).toBe(3);
    client.disconnect();
  });

  it('refuses and counts a value written behind the CLI’s back, and keeps serving the old rules', async () => {
    const client = redis.client();
    const s = new RuleStore(client, 't4:');
    await s.push(toPipeline(1), { author: 't', message: '' });
    const g = await gateway('t4:');
    expect(await backendOf(g)).toBe('pipeline');
    // Straight into the keys, as a careless script would.
    await client.hset(s.keys.versions, '2', JSON.stringify({ version: 2, yaml: 'default: [broken', author: 'x', time: '', message: '' }));
    await client.set(s.keys.version, '2');
    await client.publish(s.keys.channel, '2');
    await expect.poll(async () => (await send(g.admin + '/metrics')).body, { timeout: 3000 }).toMatch(/switchyard_rules_reloads_total\{result="invalid"\} 1/);
    expect(await backendOf(g)).toBe('pipeline');
    expect(await activeVersion(g)).toMatchObject({ version: 1 });
    client.disconnect();
  });

  it('answers PUT /rules like a push, and refuses it without the token', async () => {
    const g = await gateway('t5:');
    const denied = await send(g.admin + '/rules', { method: 'PUT', body: toPipeline(1) });
    expect(denied.status).toBe(401);
    expect(json(denied)).toMatchObject({ code: 'SWY_ERR_ADMIN_UNAUTHORIZED' });
    const auth = { authorization: 'Bearer admin-secret' };
    const invalid = await send(g.admin + '/rules', { method: 'PUT', body: 'default: nowhere\n', headers: auth });
    expect(invalid.status).toBe(400);
    expect(json(invalid)).toMatchObject({ error: 'config_invalid', code: 'SWY_ERR_CONFIG_INVALID' });
    expect(json<{ errors: { line: number; col: number; path: string }[] }>(invalid).errors[0]).toMatchObject({ line: 1, col: 10, path: 'default' });
    const client = redis.client();
    expect(await client.get('t5:{rules}:version')).toBeNull(); // nothing written
    const ok = await send(g.admin + '/rules?message=via+api', { method: 'PUT', body: toPipeline(1), headers: auth });
    expect(json(ok)).toEqual({ version: 1 });
    await expect.poll(() => backendOf(g), { timeout: 2000 }).toBe('pipeline');
    const conflict = await send(g.admin + '/rules?expect_version=0', { method: 'PUT', body: allLegacy(2), headers: auth });
    expect(conflict.status).toBe(409);
    expect(json(conflict)).toMatchObject({ error: 'version_conflict', code: 'SWY_ERR_RULES_VERSION_CONFLICT', active_version: 1 });
    client.disconnect();
  });

  it('starts from the snapshot while redis is down, else from rules.file, and catches up when it is back', async () => {
    const client = redis.client();
    const s = new RuleStore(client, 't6:');
    await s.push(toPipeline(1), { author: 't', message: '' });
    const first = await gateway('t6:', 'default: legacy\n', 'shared-snapshot.json');
    expect(await backendOf(first)).toBe('pipeline');
    const snapshot = join(first.dir, 'shared-snapshot.json');
    await expect.poll(() => existsSync(snapshot)).toBe(true);
    client.disconnect();

    await redis.kill();
    // A new gateway with the same snapshot path: it serves version 1 from the snapshot.
    const fromSnapshot = await gateway('t6:', 'default: legacy\n', snapshot);
    expect(await activeVersion(fromSnapshot)).toMatchObject({ version: 1, source: 'snapshot' });
    expect(json<{ note: string }>(await send(fromSnapshot.admin + '/readyz')).note).toMatch(/unreachable at start.*snapshot of version 1/);
    expect(await backendOf(fromSnapshot)).toBe('pipeline');
    // And one without a snapshot serves rules.file.
    const fromFile = await gateway('t6:', 'default: legacy\n', join(first.dir, 'missing', 'snap.json'));
    expect(await activeVersion(fromFile)).toMatchObject({ version: 0, source: 'file' });
    expect(await backendOf(fromFile)).toBe('legacy');

    await redis.startProcess(); // empty: redis keeps nothing on disk here
    const again = redis.client();
    const s2 = new RuleStore(again, 't6:');
    const started = Date.now();
    await s2.push(allLegacy(1), { author: 't', message: 'after the outage' });
    await s2.push(toPipeline(2), { author: 't', message: 'after the outage' });
    for (const g of [fromSnapshot, fromFile]) {
      await expect.poll(async () => (await activeVersion(g)).version, { timeout: 4000, interval: 50 }).toBe(2);
    }
    expect(Date.now() - started).toBeLessThan(4000);
    expect(await backendOf(fromFile)).toBe('pipeline');
    again.disconnect();
    rmSync(snapshot, { force: true });
  });

  it('serves without a single failed request while redis dies and comes back', async () => {
    const client = redis.client();
    const s = new RuleStore(client, 't7:');
    await s.push(toPipeline(1), { author: 't', message: '' });
    const g = await gateway('t7:');
    client.disconnect();
    const load = startLoad(g.url + '/api/x', 4);
    await new Promise((r) => setTimeout(r, 300));
    await redis.kill();
    await new Promise((r) => setTimeout(r, 1000));
    await redis.startProcess();
    const again = redis.client();
    const s2 = new RuleStore(again, 't7:');
    await s2.push(allLegacy(1), { author: 't', message: '' });
    await s2.push(allLegacy(2), { author: 't', message: '' });
    await expect.poll(async () => (await activeVersion(g)).version, { timeout: 4000, interval: 50 }).toBe(2);
    await new Promise((r) => setTimeout(r, 200));
    const result = await load.stop();
    expect(result.failed).toEqual([]);
    expect(result.ok).toBeGreaterThan(100);
    expect(result.backends.get('pipeline')).toBeGreaterThan(0);
    expect(result.backends.get('legacy')).toBeGreaterThan(0);
    const metrics = (await send(g.admin + '/metrics')).body;
    expect(metrics).toMatch(/^switchyard_rules_redis_connected 1$/m);
    again.disconnect();
  });

  it('takes 200 pushes in a row under load without a failed request, ending on the last version', async () => {
    const client = redis.client();
    const s = new RuleStore(client, 't8:');
    await s.push(allLegacy(0), { author: 't', message: '' });
    const a = await gateway('t8:');
    const b = await gateway('t8:');
    const load = startLoad(a.url + '/api/x', 4);
    let last = 0;
    for (let i = 1; i <= 200; i++) last = await s.push(i % 2 ? toPipeline(i) : allLegacy(i), { author: 't', message: `push ${i}` });
    for (const g of [a, b]) await expect.poll(async () => (await activeVersion(g)).version, { timeout: 3000 }).toBe(last);
    const result = await load.stop();
    expect(result.failed).toEqual([]);
    expect(result.ok).toBeGreaterThan(50);
    client.disconnect();
  });
});
