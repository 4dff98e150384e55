/**
 * One place that turns the `rules.redis` config (or a bare URL from the CLI) into an ioredis
 * client: a plain URL, Sentinel (`sentinels` + `sentinel_name`) or Cluster (`cluster`).
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/gateway-config.js';

export type RedisClient = Redis | Cluster;

export interface ClientOptions {
  /** Fail commands at once while disconnected instead of queueing them (the gateway's choice). */
  failFast?: boolean;
  /** Reconnect forever, at most this far apart (ms). */
  maxBackoffMs?: number;
}

type Target = Pick<RedisConfig, 'url' | 'sentinels' | 'sentinelName' | 'cluster'>;

function commonOptions(opts: ClientOptions): RedisOptions {
  const maxBackoff = opts.maxBackoffMs ?? 1000;
  return {
    lazyConnect: true,
    enableOfflineQueue: !opts.failFast,
    maxRetriesPerRequest: opts.failFast ? 0 : 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 100, maxBackoff),
  };
}

export function createRedisClient(cfg: Target, opts: ClientOptions = {}): RedisClient {
  const maxBackoff = opts.maxBackoffMs ?? 1000;
  const common = commonOptions(opts);
  if (cfg.cluster?.length) {
    return new Cluster(cfg.cluster, { redisOptions: common, lazyConnect: true, enableOfflineQueue: !opts.failFast, clusterRetryStrategy: (t) => Math.min(t * 100, maxBackoff) });
  }
  if (cfg.sentinels?.length) {
    return new Redis({ ...common, sentinels: cfg.sentinels, name: cfg.sentinelName ?? 'mymaster' });
  }
  return new Redis(cfg.url ?? 'redis://127.0.0.1:6379', common);
}

/**
 * The connection that listens for change notices. On a cluster it is a plain connection to one
 * node, not ioredis's cluster subscriber: classic PUBLISH reaches every node of a cluster, so any
 * node hears every notice, and the cluster subscriber (ioredis 5.11) re-selects a node without
 * pause while every node is down: thousands of connection attempts a second on the gateway's
 * event loop (redis/ioredis#2030). Each reconnect here waits the backoff and tries the next node
 * of `cluster`, so a node gone for good is not waited on.
 */
export function createSubscriber(cfg: Target, opts: ClientOptions = {}): RedisClient {
  const nodes = cfg.cluster;
  if (!nodes?.length) return createRedisClient(cfg, opts);
  const common = commonOptions(opts);
  let next = 0;
  const client: Redis = new Redis({
    ...common,
    ...nodes[0],
    retryStrategy: (times) => {
      // ioredis reads host and port from these options on every connection attempt.
      next = (next + 1) % nodes.length;
      Object.assign(client.options, nodes[next]);
      return common.retryStrategy!(times);
    },
  });
  return client;
}

/**
 * Connects, and resolves true once the client is ready, or false after `ms` (ioredis keeps
 * retrying either way) or, with `failEarly`, as soon as the first attempt fails. Waits for the
 * 'ready' event, not for connect()'s promise: on a cluster, ioredis 5.11 never settles that
 * promise when its first ready check fails (as on a master that is down), although it retries
 * and gets ready later; `switchyard rules push` hung on it.
 */
export function connectWithin(client: RedisClient, ms: number, opts: { failEarly?: boolean } = {}): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      client.off('ready', ready);
      resolve(ok);
    };
    const ready = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    client.on('ready', ready);
    client.connect().catch(() => {
      if (opts.failEarly && client.status !== 'ready') done(false);
    });
  });
}
