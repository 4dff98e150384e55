/**
 * The rules-in-Redis suite against a real 3-master Redis Cluster (`rules.redis.cluster`), with
 * gateway processes and the CLI, plus what only a cluster has: one master out while the others
 * serve, and the node that holds the gateway's subscription going away.
 */
import { expect, it } from 'vitest';
import { TestRedisCluster } from '../helpers/redis.js';
import { startLoad } from '../helpers/load.js';
import { activeVersion, allLegacy, backendOf, runRulesStore, toPipeline } from './run-rules-store.js';

let cluster: TestRedisCluster;

runRulesStore('a redis cluster', {
  start: async () => (cluster = await TestRedisCluster.start(3)),
  processes: true,
  extra: (ctx) => {
    it('serves without a failed request while the master of the {rules} slot is down, and applies the next push after', async () => {
      const { gateway, rules } = ctx();
      const r = rules('c1:');
      await r.push(toPipeline(1), { author: 't', message: '' });
      const g = await gateway('c1:');
      const load = startLoad(g.url + '/api/x', 4);
      await expect.poll(() => load.result.ok, { timeout: 10_000 }).toBeGreaterThan(20);
      const owner = await cluster.nodeFor('c1:{rules}:version');
      await owner.kill();
      await expect(r.push(allLegacy(2), { author: 't', message: 'while down' })).rejects.toThrow();
      const during = load.result.ok;
      await expect.poll(() => load.result.ok, { timeout: 10_000 }).toBeGreaterThan(during + 20);
      await owner.startProcess();
      await cluster.waitOk();
      // The master came back empty (no persistence here): versions start again from 1.
      await r.push(allLegacy(1), { author: 't', message: 'after' });
      expect(await r.push(allLegacy(2), { author: 't', message: 'after' })).toBe(2);
      await expect.poll(async () => (await activeVersion(g)).version, { timeout: 4000, interval: 50 }).toBe(2);
      await expect.poll(() => load.result.backends.get('legacy') ?? 0, { timeout: 10_000 }).toBeGreaterThan(20);
      const result = await load.stop();
      expect(result.failed).toEqual([]);
      expect(result.backends.get('pipeline')).toBeGreaterThan(0);
    });

    it('moves its subscription to another node when that node dies, and hears the next notice', async () => {
      const { gateway, rules } = ctx();
      const r = rules('c2:');
      await r.push(allLegacy(1), { author: 't', message: '' });
      const g = await gateway('c2:', { poll: '60m' }); // only a notice (or a reconnect) can bring a change
      const channel = 'c2:{rules}:changed';
      await expect.poll(() => cluster.subscribers(channel), { timeout: 5000 }).toBe(1);
      const on = (await cluster.subscribersByNode(channel)).indexOf(1);
      const node = cluster.nodes[on]!;
      await node.kill();
      await expect.poll(() => cluster.subscribers(channel), { timeout: 5000 }).toBe(1); // counted on the live nodes
      await node.startProcess();
      await cluster.waitOk();
      // If that node held {rules}, it is back empty and the first push is version 1 again.
      await r.push(allLegacy(2), { author: 't', message: '' });
      const last = await r.push(toPipeline(3), { author: 't', message: '' });
      expect(last).toBeGreaterThan(1);
      await expect.poll(() => backendOf(g), { timeout: 5000 }).toBe('pipeline');
      expect(await activeVersion(g)).toMatchObject({ version: last, source: 'redis' });
    });
  },
});
