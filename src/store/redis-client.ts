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

export function createRedisClient(cfg: Pick<RedisConfig, 'url' | 'sentinels' | 'sentinelName' | 'cluster'>, opts: ClientOptions = {}): RedisClient {
  const maxBackoff = opts.maxBackoffMs ?? 1000;
  const common: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: !opts.failFast,
    maxRetriesPerRequest: opts.failFast ? 0 : 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 100, maxBackoff),
  };
  if (cfg.cluster?.length) {
    return new Cluster(cfg.cluster, { redisOptions: common, lazyConnect: true, enableOfflineQueue: !opts.failFast, clusterRetryStrategy: (t) => Math.min(t * 100, maxBackoff) });
  }
  if (cfg.sentinels?.length) {
    return new Redis({ ...common, sentinels: cfg.sentinels, name: cfg.sentinelName ?? 'mymaster' });
  }
  return new Redis(cfg.url ?? 'redis://127.0.0.1:6379', common);
}
