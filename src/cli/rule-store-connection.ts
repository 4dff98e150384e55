/**
 * How the CLI reaches the rules in Redis: `--redis URL`, then SWITCHYARD_REDIS_URL, then
 * `rules.redis` of the gateway config (URL, Sentinel or Cluster), under `--prefix` or
 * `rules.redis.prefix`. Any failure to reach Redis, or of a command once connected, becomes one
 * line naming where the CLI looked and what to check (issue 15: no raw ioredis errors).
 */
import type { GatewayConfig, RedisConfig } from '../config/gateway-config.js';
import { ConfigError } from '../config/yaml-source.js';
import { connectWithin, createRedisClient, type RedisClient } from '../store/redis-client.js';
import { RuleStore, VersionConflictError } from '../store/rule-store.js';
import { UsageError } from './common.js';

/**
 * How long the CLI waits for a connection: Sentinel and Cluster clients otherwise retry forever
 * (a cluster may also be re-checking its state after a master went down).
 */
const CONNECT_DEADLINE_MS = 5000;

export class RedisUnavailableError extends Error {
  readonly exitCode = 1;
}

interface Target {
  cfg: Pick<RedisConfig, 'url' | 'sentinels' | 'sentinelName' | 'cluster'>;
  /** Where Redis is, for messages, without a password. */
  where: string;
  /** What to check when it cannot be reached. */
  hint: string;
}

function targetOf(config: GatewayConfig, values: { redis?: string }): Target {
  const fromConfig: Partial<RedisConfig> = config.rules.redis ?? {};
  const url = values.redis || process.env.SWITCHYARD_REDIS_URL;
  const hint = 'check --redis, SWITCHYARD_REDIS_URL or rules.redis.url in the config';
  if (url) return { cfg: { url }, where: `Redis at ${redact(url)}`, hint };
  const nodes = (list: { host: string; port: number }[]) => list.map((n) => `${n.host}:${n.port}`).join(',');
  if (fromConfig.cluster?.length) {
    return { cfg: fromConfig, where: `Redis Cluster at ${nodes(fromConfig.cluster)}`, hint: `check --redis, SWITCHYARD_REDIS_URL or rules.redis.cluster in ${config.file}` };
  }
  if (fromConfig.sentinels?.length) {
    return {
      cfg: fromConfig,
      where: `Redis master ${fromConfig.sentinelName ?? 'mymaster'} via the sentinels ${nodes(fromConfig.sentinels)}`,
      hint: `check --redis, SWITCHYARD_REDIS_URL or rules.redis.sentinels in ${config.file}`,
    };
  }
  if (fromConfig.url) return { cfg: fromConfig, where: `Redis at ${redact(fromConfig.url)}`, hint: `check --redis, SWITCHYARD_REDIS_URL or rules.redis.url in ${config.file}` };
  throw new UsageError('no Redis given: use --redis URL, SWITCHYARD_REDIS_URL, or rules.redis in the gateway config');
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
};

function reasonOf(err: Error | undefined): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code && REASONS[code]) return REASONS[code];
  return (err?.message ?? 'unknown error').split('\n')[0]!.replace(/\.$/, '');
}

/** Opens a client, runs `fn`, closes the client; Redis failures become RedisUnavailableError. */
export async function withRedis<T>(config: GatewayConfig, values: { redis?: string }, fn: (client: RedisClient) => Promise<T>): Promise<T> {
  const target = targetOf(config, values);
  const client = createRedisClient(target.cfg, { maxBackoffMs: 500 });
  // ioredis reports the cause (ECONNREFUSED...) as an event and rejects with "Connection is closed."
  let lastError: Error | undefined;
  client.on('error', (err: Error) => (lastError = err));
  try {
    if (!(await connectWithin(client, CONNECT_DEADLINE_MS, { failEarly: true }))) {
      const why = lastError ? reasonOf(lastError) : `no answer within ${CONNECT_DEADLINE_MS / 1000} s`;
      throw new RedisUnavailableError(`cannot reach ${target.where} (${why}): ${target.hint}`);
    }
    try {
      return await fn(client);
    } catch (err) {
      if (err instanceof UsageError || err instanceof ConfigError || err instanceof VersionConflictError) throw err;
      throw new RedisUnavailableError(`${target.where} failed: ${reasonOf(err as Error)}: ${target.hint}`);
    }
  } finally {
    client.disconnect();
  }
}

/** withRedis, with the rule store under `--prefix`, else rules.redis.prefix, else "switchyard:". */
export function withRuleStore<T>(config: GatewayConfig, values: { redis?: string; prefix?: string }, fn: (store: RuleStore) => Promise<T>): Promise<T> {
  const fromConfig = config.rules.redis;
  return withRedis(config, values, (client) => fn(new RuleStore(client, values.prefix ?? fromConfig?.prefix ?? 'switchyard:', fromConfig?.historyLimit ?? 50)));
}
