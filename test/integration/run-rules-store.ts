/**
 * The rules-in-Redis suite, run against one kind of Redis (hono's `runTest({ newRouter })` shape:
 * one suite, several implementations): a single redis-server (rules-redis.test.ts) and a Redis
 * Cluster (rules-cluster.test.ts). With `processes`, gateways run as `switchyard gateway`
 * processes and pushes go through `switchyard rules push`, as an operator's would.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/store/redis-client.js';
import { RuleStore } from '../../src/store/rule-store.js';
import { type GatewaySetup, startGateway, type TestGateway, tempDir, writeGatewayFiles } from '../helpers/gateway.js';
import { startLoad } from '../helpers/load.js';
import { metric } from '../helpers/metrics.js';
import { runCli, startGatewayProcess } from '../helpers/process.js';
import { echoBackend, json, send, type TestServer } from '../helpers/servers.js';

/** What the suite needs of a Redis: TestRedis and TestRedisCluster. */
export interface RedisUnderTest {
  /** The `rules.redis` key that reaches it (`url: ...` or `cluster: [...]`), one line of YAML. */
  readonly connectionYaml: string;
  client(): RedisClient;
  subscribers(channel: string): Promise<number>;
  /** An outage: every process dies. */
  kill(): Promise<void>;
  /** Back, empty, and ready for commands. */
  startProcess(): Promise<void>;
  stop(): Promise<void>;
}

export interface RulesStoreSuite {
  start(): Promise<RedisUnderTest>;
  /** Gateways as processes and pushes through the CLI, instead of in this process through RuleStore. */
  processes: boolean;
  /** More tests for this kind, given the running Redis and the suite's helpers. */
  extra?: (ctx: () => SuiteContext) => void;
}

/** A gateway in this process, or a process (then with what it wrote to stderr). */
export type SuiteGateway = Omit<TestGateway, 'gw'> & { stderr?(): string };

/** How a test writes rules: RuleStore.push, or `switchyard rules push` in a process. */
export interface RulesWriter {
  push(yaml: string, meta: { author: string; message: string; expectVersion?: number }): Promise<number>;
  /** Retained versions, newest first. */
  history(): Promise<number[]>;
}

export interface SuiteContext {
  redis: RedisUnderTest;
  gateway(prefix: string, opts?: { rules?: string; snapshot?: string; poll?: string }): Promise<SuiteGateway>;
  rules(prefix: string, historyLimit?: number): RulesWriter;
}

export const toPipeline = (n: number) => `# v${n}\ndefault: legacy\nroutes:\n  - { name: api, match: { path: "/api/**" }, backend: pipeline }\n`;
export const allLegacy = (n: number) => `# v${n}\ndefault: legacy\n`;
export const backendOf = async (g: SuiteGateway, path = '/api/x') => (await send(g.url + path)).headers['x-switchyard-backend'];
export const activeVersion = async (g: SuiteGateway) => json<{ version: number; source: string }>(await send(g.admin + '/rules'));

export function runRulesStore(name: string, suite: RulesStoreSuite): void {
  // Processes and CLI runs start node each time: slow on a busy machine.
  describe(`rules in ${name}`, { timeout: suite.processes ? 300_000 : 120_000 }, () => {
    let redis: RedisUnderTest;
    let legacy: TestServer;
    let pipeline: TestServer;
    let cliDir: string;
    const gateways: SuiteGateway[] = [];

    const redisBlock = (o: { prefix: string; snapshot?: string; poll?: string; history?: number }) => (rulesFile: string) =>
      `rules:\n  file: "${rulesFile}"\n  redis:\n    ${redis.connectionYaml}\n    prefix: "${o.prefix}"\n    poll_interval: ${o.poll ?? '500ms'}\n` +
      `    snapshot: "${o.snapshot ?? 'snap.json'}"\n    history: ${o.history ?? 50}`;

    async function gateway(prefix: string, opts: { rules?: string; snapshot?: string; poll?: string } = {}): Promise<SuiteGateway> {
      const setup: GatewaySetup = {
        backends: { legacy: legacy.url, pipeline: pipeline.url },
        rules: opts.rules ?? 'default: legacy\n',
        rulesBlock: redisBlock({ prefix, snapshot: opts.snapshot, poll: opts.poll }),
      };
      const g = suite.processes ? await startGatewayProcess(setup) : await startGateway(setup);
      gateways.push(g);
      return g;
    }

    /** A client per call, as separate CLI runs would have (and none left behind by an outage). */
    function storeWriter(prefix: string, historyLimit: number): RulesWriter {
      const withStore = async <T>(fn: (s: RuleStore) => Promise<T>) => {
        const client = redis.client();
        try {
          return await fn(new RuleStore(client, prefix, historyLimit));
        } finally {
          client.disconnect();
        }
      };
      return {
        push: (yaml, meta) => withStore((s) => s.push(yaml, meta)),
        history: () => withStore(async (s) => (await s.history()).map((e) => e.version)),
      };
    }

    function cliWriter(prefix: string, historyLimit: number): RulesWriter {
      const { configFile } = writeGatewayFiles({
        backends: { legacy: legacy.url, pipeline: pipeline.url },
        rules: 'default: legacy\n',
        rulesBlock: redisBlock({ prefix, history: historyLimit }),
      });
      let n = 0;
      return {
        async push(yaml, meta) {
          const file = join(cliDir, `${prefix.replace(/\W/g, '')}-${++n}.yaml`);
          writeFileSync(file, yaml);
          const args = ['rules', 'push', file, '--config', configFile, '--author', meta.author, '-m', meta.message];
          if (meta.expectVersion !== undefined) args.push('--expect-version', String(meta.expectVersion));
          const r = await runCli(args);
          if (r.code !== 0) throw new Error(r.stderr);
          const pushed = /^pushed version (\d+) \(was \d+\) to /.exec(r.stdout);
          if (!pushed) throw new Error(`unexpected push output: ${r.stdout}`);
          return Number(pushed[1]);
        },
        async history() {
          const r = await runCli(['rules', 'history', '--json', '--config', configFile]);
          if (r.code !== 0) throw new Error(r.stderr);
          return (JSON.parse(r.stdout) as { version: number }[]).map((e) => e.version);
        },
      };
    }

    const rules = (prefix: string, historyLimit = 50) => (suite.processes ? cliWriter : storeWriter)(prefix, historyLimit);

    beforeAll(async () => {
      redis = await suite.start();
      legacy = await echoBackend('legacy');
      pipeline = await echoBackend('pipeline');
      cliDir = tempDir('switchyard-pushes-');
    }, 60_000);
    afterAll(async () => {
      await Promise.all(gateways.map((g) => g.stop()));
      await legacy?.close();
      await pipeline?.close();
      await redis?.stop();
      rmSync(cliDir, { recursive: true, force: true });
    }, 60_000);

    it('loads the active version at start and applies each push', async () => {
      const r = rules('t1:');
      await r.push(allLegacy(1), { author: 'test', message: 'first' });
      const g = await gateway('t1:');
      expect(await activeVersion(g)).toMatchObject({ version: 1, source: 'redis' });
      expect(await backendOf(g)).toBe('legacy');
      expect(await r.push(toPipeline(2), { author: 'test', message: 'second' })).toBe(2);
      await expect.poll(() => backendOf(g)).toBe('pipeline');
      const metrics = (await send(g.admin + '/metrics')).body;
      expect(metrics).toMatch(/^switchyard_rules_version 2$/m);
      expect(metrics).toMatch(/switchyard_rules_source\{source="redis"\} 1/);
      expect(metrics).toMatch(/switchyard_route_weight\{route="api",backend="pipeline"\} 100/);
    });

    it('applies a change notice at once, without waiting for the poll', async () => {
      const r = rules('t9:');
      await r.push(allLegacy(1), { author: 't', message: '' });
      const g = await gateway('t9:', { poll: '60m' });
      expect(await activeVersion(g)).toMatchObject({ version: 1, source: 'redis' });
      // The subscription is made after the start; a notice published before it would be lost.
      await expect.poll(() => redis.subscribers('t9:{rules}:changed')).toBe(1);
      await r.push(toPipeline(2), { author: 't', message: '' });
      await expect.poll(() => backendOf(g)).toBe('pipeline');
      expect(await activeVersion(g)).toMatchObject({ version: 2, source: 'redis' });
    });

    it('lets exactly one of two pushes that expect the same version win', async () => {
      const r = rules('t2:');
      const v = await r.push(allLegacy(1), { author: 't', message: '' });
      const results = await Promise.allSettled([
        r.push(toPipeline(2), { author: 'a', message: '', expectVersion: v }),
        r.push(allLegacy(3), { author: 'b', message: '', expectVersion: v }),
      ]);
      expect(results.filter((x) => x.status === 'fulfilled')).toEqual([{ status: 'fulfilled', value: 2 }]);
      const lost = results.find((x) => x.status === 'rejected') as PromiseRejectedResult;
      expect(String(lost.reason.message)).toMatch(/version conflict: expected version 1, but the active version is 2/);
      const client = redis.client();
      expect(await new RuleStore(client, 't2:').activeVersion()).toBe(2);
      client.disconnect();
    });

    it('keeps a bounded history', async () => {
      const r = rules('t3:', 3);
      for (let i = 1; i <= 5; i++) await r.push(allLegacy(i), { author: 't', message: `m${i}` });
      expect(await r.history()).toEqual([5, 4, 3]);
      const client = redis.client();
      const s = new RuleStore(client, 't3:', 3);
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
      const invalid = () => metric(g.admin, 'switchyard_rules_reloads_total', { result: 'invalid' });
      const before = await invalid();
      // Straight into the keys, as a careless script would.
      await client.hset(s.keys.versions, '2', JSON.stringify({ version: 2, yaml: 'default: [broken', author: 'x', time: '', message: '' }));
      await client.set(s.keys.version, '2');
      await client.publish(s.keys.channel, '2');
      await expect.poll(invalid).toBe(before + 1);
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
      await expect.poll(() => backendOf(g)).toBe('pipeline');
      const conflict = await send(g.admin + '/rules?expect_version=0', { method: 'PUT', body: allLegacy(2), headers: auth });
      expect(conflict.status).toBe(409);
      expect(json(conflict)).toMatchObject({ error: 'version_conflict', code: 'SWY_ERR_RULES_VERSION_CONFLICT', active_version: 1 });
      client.disconnect();
    });

    it('writes mismatch samples to the Redis Stream PREFIX{diffs}:samples', async () => {
      const r = rules('t10:');
      await r.push('default: legacy\nroutes:\n  - { name: api, match: { path: "/api/**" }, backend: legacy, shadow: { percent: 100 } }\n', {
        author: 't',
        message: '',
      });
      const g = await gateway('t10:');
      const client = redis.client();
      // The sink connects in the background: a sample written before that is dropped, so send until one lands.
      await expect.poll(async () => (await send(g.url + '/api/sampled'), await client.xlen('t10:{diffs}:samples'))).toBeGreaterThan(0);
      const [, fields] = (await client.xrange('t10:{diffs}:samples', '-', '+', 'COUNT', 1))[0]!;
      expect(fields[0]).toBe('sample');
      const sample = JSON.parse(fields[1]!);
      expect(sample).toMatchObject({ route: 'api', method: 'GET', path: '/api/sampled', legacy: { status: 200 }, pipeline: { status: 200 } });
      expect(sample.diffs).toContainEqual(expect.objectContaining({ field: '/backend', a: 'legacy', b: 'pipeline' }));
      const report = json<{ routes: { route: string; results: { mismatch: number } }[] }>(
        await send(g.admin + '/diffs?route=api', { headers: { authorization: 'Bearer admin-secret' } }),
      ).routes[0];
      expect(report!.results.mismatch).toBeGreaterThan(0);
      client.disconnect();
    });

    it('starts from the snapshot while redis is down, else from rules.file, and catches up when it is back', async () => {
      const r = rules('t6:');
      await r.push(toPipeline(1), { author: 't', message: '' });
      const first = await gateway('t6:', { snapshot: 'shared-snapshot.json' });
      expect(await backendOf(first)).toBe('pipeline');
      const snapshot = join(first.dir, 'shared-snapshot.json');
      await expect.poll(() => existsSync(snapshot)).toBe(true);

      await redis.kill();
      // A new gateway with the same snapshot path: it serves version 1 from the snapshot.
      const fromSnapshot = await gateway('t6:', { snapshot });
      expect(await activeVersion(fromSnapshot)).toMatchObject({ version: 1, source: 'snapshot' });
      expect(json<{ note: string }>(await send(fromSnapshot.admin + '/readyz')).note).toMatch(/unreachable at start.*snapshot of version 1/);
      expect(await backendOf(fromSnapshot)).toBe('pipeline');
      // And one without a snapshot serves rules.file.
      const fromFile = await gateway('t6:', { snapshot: join(first.dir, 'missing', 'snap.json') });
      expect(await activeVersion(fromFile)).toMatchObject({ version: 0, source: 'file' });
      expect(await backendOf(fromFile)).toBe('legacy');

      await redis.startProcess(); // empty: redis keeps nothing on disk here
      await r.push(allLegacy(1), { author: 't', message: 'after the outage' });
      await r.push(toPipeline(2), { author: 't', message: 'after the outage' });
      for (const g of [fromSnapshot, fromFile]) {
        await expect.poll(async () => (await activeVersion(g)).version).toBe(2);
      }
      expect(await backendOf(fromFile)).toBe('pipeline');
      rmSync(snapshot, { force: true });
    });

    it('serves without a single failed request while redis dies and comes back', async () => {
      const r = rules('t7:');
      await r.push(toPipeline(1), { author: 't', message: '' });
      const g = await gateway('t7:');
      const load = startLoad(g.url + '/api/x', 4);
      await expect.poll(() => load.result.ok).toBeGreaterThan(20);
      await redis.kill();
      const connected = async () => /^switchyard_rules_redis_connected (\d)$/m.exec((await send(g.admin + '/metrics')).body)?.[1];
      await expect.poll(connected).toBe('0');
      const during = load.result.ok;
      await expect.poll(() => load.result.ok).toBeGreaterThan(during + 20);
      await redis.startProcess();
      await r.push(allLegacy(1), { author: 't', message: '' });
      await r.push(allLegacy(2), { author: 't', message: '' });
      await expect.poll(async () => (await activeVersion(g)).version).toBe(2);
      await expect.poll(() => load.result.backends.get('legacy') ?? 0).toBeGreaterThan(20);
      const result = await load.stop();
      expect(result.failed).toEqual([]);
      expect(result.backends.get('pipeline')).toBeGreaterThan(0);
      await expect.poll(connected).toBe('1');
      // What a reconnect storm leaves behind (ioredis's cluster subscriber, redis/ioredis#2030).
      expect(/.*MaxListenersExceededWarning.*/.exec(g.stderr?.() ?? '')?.[0]).toBeUndefined();
    });

    it('takes 200 pushes in a row under load without a failed request, ending on the last version', async () => {
      // Through RuleStore even with `processes`: a CLI process per push would only test node's start.
      const client = redis.client();
      const s = new RuleStore(client, 't8:');
      await s.push(allLegacy(0), { author: 't', message: '' });
      const a = await gateway('t8:');
      const b = await gateway('t8:');
      const load = startLoad(a.url + '/api/x', 4);
      let last = 0;
      for (let i = 1; i <= 200; i++) last = await s.push(i % 2 ? toPipeline(i) : allLegacy(i), { author: 't', message: `push ${i}` });
      for (const g of [a, b]) await expect.poll(async () => (await activeVersion(g)).version).toBe(last);
      await expect.poll(() => load.result.ok).toBeGreaterThan(50);
      const result = await load.stop();
      expect(result.failed).toEqual([]);
      client.disconnect();
    });

    suite.extra?.(() => ({ redis, gateway, rules }));
  });
}
