/**
 * A real redis-server for tests: its own ephemeral port and directory, never the machine's
 * default instance on 6379. It can be stopped and started again on the same port.
 * TestRedisCluster runs several of them as one Redis Cluster.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { tempDir } from './gateway.js';

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Servers still running, killed if the test process exits first (a timed-out hook, say). */
const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((c) => c.kill('SIGKILL')));

export class TestRedis {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly args: string[],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The `rules.redis` key that reaches this server, as one line of YAML. */
  get connectionYaml(): string {
    return `url: "${this.url}"`;
  }

  /** `dir` defaults to a new temporary directory; `args` are extra redis-server options. */
  static async start(opts: { dir?: string; args?: string[] } = {}): Promise<TestRedis> {
    const r = new TestRedis(await freePort(), opts.dir ?? tempDir('switchyard-redis-'), opts.args ?? []);
    await r.startProcess();
    return r;
  }

  /** Starts the process (again), empty: nothing is saved (`--save ''`, no AOF). */
  async startProcess(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, ...this.args];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    running.add(child);
    child.once('exit', () => running.delete(child));
    this.child = child;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const c = new Redis(this.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on('error', () => undefined);
      try {
        await c.connect();
        await c.ping();
        c.disconnect();
        return;
      } catch {
        c.disconnect();
        if (Date.now() > deadline) throw new Error(`redis-server did not start on ${this.port}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Kills the server (SIGKILL: an outage, not a shutdown). */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return; // already gone
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  }

  client(): Redis {
    const c = new Redis(this.port, '127.0.0.1');
    c.on('error', () => undefined);
    return c;
  }

  /** Subscribers of a pub/sub channel (PUBSUB NUMSUB). */
  async subscribers(channel: string): Promise<number> {
    const c = this.client();
    try {
      return ((await c.call('PUBSUB', 'NUMSUB', channel)) as [string, number])[1];
    } finally {
      c.disconnect();
    }
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const SLOTS = 16384;

/**
 * A Redis Cluster of `masters` local redis-server processes (no replicas), each with its own
 * client and bus port and its own directory under .tmp/. The slots are split into equal ranges
 * with CLUSTER ADDSLOTSRANGE and the nodes joined with CLUSTER MEET, so no redis-cli is needed.
 * Each node keeps its nodes.conf across kill()/startProcess(), so a restarted node rejoins with
 * its identity and slots, but without data.
 */
export class TestRedisCluster {
  private constructor(
    readonly dir: string,
    readonly nodes: TestRedis[],
  ) {}

  /** The `rules.redis` key that reaches this cluster, as one line of YAML. */
  get connectionYaml(): string {
    return `cluster: [${this.nodes.map((n) => `"127.0.0.1:${n.port}"`).join(', ')}]`;
  }

  static async start(masters = 3): Promise<TestRedisCluster> {
    mkdirSync('.tmp', { recursive: true });
    const dir = mkdtempSync(join(resolve('.tmp'), 'redis-cluster-'));
    const nodes: TestRedis[] = [];
    const busPorts: number[] = [];
    for (let i = 0; i < masters; i++) {
      const nodeDir = join(dir, `node-${i}`);
      mkdirSync(nodeDir);
      // cluster-port: the default bus port (port + 10000) can fall outside 1..65535 or be taken.
      busPorts.push(await freePort());
      const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000', '--cluster-port', String(busPorts[i])];
      nodes.push(await TestRedis.start({ dir: nodeDir, args }));
    }
    const cluster = new TestRedisCluster(dir, nodes);
    await cluster.each(async (c, i) => {
      const [from, to] = cluster.slotRange(i);
      await c.call('CLUSTER', 'ADDSLOTSRANGE', from, to);
      if (i > 0) await c.call('CLUSTER', 'MEET', '127.0.0.1', nodes[0]!.port, busPorts[0]!);
    });
    await cluster.waitOk();
    return cluster;
  }

  /** The slots node `i` serves. */
  private slotRange(i: number): [number, number] {
    const per = Math.ceil(SLOTS / this.nodes.length);
    return [i * per, Math.min(SLOTS, (i + 1) * per) - 1];
  }

  private async each<T>(fn: (c: Redis, i: number) => Promise<T>): Promise<T[]> {
    return Promise.all(
      this.nodes.map(async (n, i) => {
        const c = new Redis(n.port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null });
        c.on('error', () => undefined);
        try {
          return await fn(c, i);
        } finally {
          c.disconnect();
        }
      }),
    );
  }

  /** Polls every node until each reports `cluster_state:ok` and knows all the others. */
  async waitOk(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const want = `cluster_known_nodes:${this.nodes.length}`;
    for (;;) {
      const infos = await this.each((c) => c.call('CLUSTER', 'INFO') as Promise<string>).catch(() => [] as string[]);
      if (infos.length === this.nodes.length && infos.every((s) => s.includes('cluster_state:ok') && s.includes(want))) return;
      if (Date.now() > deadline) throw new Error(`redis cluster not ok after ${timeoutMs} ms:\n${infos.join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The node that serves `key` (for a hash-tagged key, that of its tag). */
  async nodeFor(key: string): Promise<TestRedis> {
    const [slot] = await this.each((c) => c.call('CLUSTER', 'KEYSLOT', key) as Promise<number>);
    return this.nodes[this.nodes.findIndex((_n, i) => slot! <= this.slotRange(i)[1])]!;
  }

  /** Subscribers of a pub/sub channel on each node, 0 for a node that is down. */
  async subscribersByNode(channel: string): Promise<number[]> {
    return this.each(async (c) => ((await c.call('PUBSUB', 'NUMSUB', channel).catch(() => [channel, 0])) as [string, number])[1]);
  }

  /** Subscribers of a pub/sub channel, summed over the nodes that are up (NUMSUB counts one node's). */
  async subscribers(channel: string): Promise<number> {
    return (await this.subscribersByNode(channel)).reduce((a, b) => a + b, 0);
  }

  client(): Cluster {
    const c = new Cluster(this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
    c.on('error', () => undefined);
    return c;
  }

  /** Kills every node (SIGKILL): the whole cluster is out. */
  async kill(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
  }

  /** Starts every node again, empty, and waits until the cluster is ok. */
  async startProcess(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.startProcess()));
    await this.waitOk();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
