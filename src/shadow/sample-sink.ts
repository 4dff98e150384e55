/**
 * Where mismatch samples are kept, capped: a Redis Stream trimmed with MAXLEN when Redis is
 * configured, a JSONL file rotated at a size otherwise (one previous file kept as FILE.1).
 * Writes are fire-and-forget: a slow or failing sink loses samples, never requests.
 */
import { createWriteStream, mkdirSync, renameSync, statSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { GatewayConfig } from '../config/gateway-config.js';
import { createRedisClient, type RedisClient } from '../store/redis-client.js';

export interface SampleSink {
  write(sample: object): void;
  close(): Promise<void>;
}

export class RedisStreamSink implements SampleSink {
  constructor(
    private readonly redis: RedisClient,
    readonly key: string,
    private readonly maxLen: number,
  ) {}

  write(sample: object): void {
    this.redis.xadd(this.key, 'MAXLEN', '~', String(this.maxLen), '*', 'sample', JSON.stringify(sample)).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

export class JsonlFileSink implements SampleSink {
  private stream: WriteStream | undefined;
  private size = 0;

  constructor(
    readonly file: string,
    private readonly maxBytes: number,
  ) {}

  private open(): WriteStream {
    if (!this.stream) {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      try {
        this.size = statSync(this.file).size;
      } catch {
        this.size = 0;
      }
      this.stream = createWriteStream(this.file, { flags: 'a' });
      this.stream.on('error', () => undefined);
    }
    return this.stream;
  }

  write(sample: object): void {
    const line = JSON.stringify(sample) + '\n';
    const bytes = Buffer.byteLength(line);
    if (this.size + bytes > this.maxBytes && this.size > 0) this.rotate();
    this.open().write(line);
    this.size += bytes;
  }

  private rotate(): void {
    this.stream?.end();
    this.stream = undefined;
    try {
      renameSync(this.file, this.file + '.1');
    } catch {
      /* nothing to rotate */
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.stream ? this.stream.end(resolve) : resolve()));
  }
}

/** Mismatch samples go to a Redis Stream when the rules use Redis, else to a capped JSONL file. */
export function createSampleSink(config: GatewayConfig): SampleSink {
  const cfg = config.shadow.samples;
  const redis = config.rules.redis;
  if (!redis) return new JsonlFileSink(cfg.file, cfg.maxBytes);
  const client = createRedisClient(redis, { failFast: true });
  client.on('error', () => undefined);
  void client.connect().catch(() => undefined);
  return new RedisStreamSink(client, `${redis.prefix}{diffs}:samples`, cfg.streamMaxLen);
}
