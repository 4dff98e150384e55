/**
 * Where mismatch samples are kept, capped: a Redis Stream trimmed with MAXLEN when Redis is
 * configured, a JSONL file rotated at a size otherwise (one previous file kept as FILE.1).
 * Writes are fire-and-forget: a slow or failing sink loses samples, never requests. A sample
 * lost is counted (switchyard_shadow_samples_dropped_total{reason}) and a failure logged once
 * per episode, when it starts and when samples are stored again; the file sink drops a stream
 * that failed (a full disk, a removed directory) and opens the file again for the next sample.
 */
import { createWriteStream, fchmodSync, fstatSync, mkdirSync, openSync, renameSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/catalogue.js';
import { createRedisClient, type RedisClient } from '../store/redis-client.js';

export interface SampleSink {
  write(sample: object): void;
  close(): Promise<void>;
}

export type DropReason = 'open_failed' | 'write_failed' | 'xadd_failed';

/** Counts lost samples and logs a failure episode once at each end. */
export class SinkFailures {
  private dropped = 0;

  constructor(
    private readonly where: object,
    private readonly metrics?: Metrics,
    private readonly logger?: Logger,
  ) {}

  failed(reason: DropReason, err: Error): void {
    this.metrics?.shadowSamplesDropped.inc({ reason });
    if (this.dropped++ === 0) this.logger?.error({ ...this.where, reason, err: err.message }, 'diff samples cannot be stored; dropping them until one is');
  }

  stored(): void {
    if (this.dropped === 0) return;
    this.logger?.info({ ...this.where, dropped: this.dropped }, 'diff samples stored again');
    this.dropped = 0;
  }
}

export class RedisStreamSink implements SampleSink {
  private readonly failures: SinkFailures;

  constructor(
    private readonly redis: RedisClient,
    readonly key: string,
    private readonly maxLen: number,
    metrics?: Metrics,
    logger?: Logger,
  ) {
    this.failures = new SinkFailures({ stream: key }, metrics, logger);
  }

  write(sample: object): void {
    this.redis.xadd(this.key, 'MAXLEN', '~', String(this.maxLen), '*', 'sample', JSON.stringify(sample)).then(
      () => this.failures.stored(),
      (err: Error) => this.failures.failed('xadd_failed', err),
    );
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

export class JsonlFileSink implements SampleSink {
  private stream: WriteStream | undefined;
  private size = 0;
  private readonly failures: SinkFailures;

  constructor(
    readonly file: string,
    private readonly maxBytes: number,
    metrics?: Metrics,
    logger?: Logger,
  ) {
    this.failures = new SinkFailures({ file }, metrics, logger);
  }

  /** The open stream, or a new one on the file; throws when the file cannot be opened. */
  private open(): WriteStream {
    // A stream whose write failed is destroyed at once, but its 'error' event (which lets go of
    // it below) comes a tick later, after the failed lines' callbacks: a sample written in
    // between must not go to it.
    if (this.stream && !this.stream.destroyed) return this.stream;
    // Samples hold request data: owner only. The mode applies to a directory this creates; one
    // that exists (/var/log, say) is the operator's and stays as it is.
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    // Opened synchronously, not by the stream: lines still pending when a rotation renames the
    // file must land in FILE.1, not in whatever the name points to once an async open runs.
    const fd = openSync(this.file, 'a', 0o600);
    const stat = fstatSync(fd);
    // Created 0600 (whatever the umask); an older, wider file is narrowed. Never a device.
    if (stat.isFile() && (stat.mode & 0o777) !== 0o600) fchmodSync(fd, 0o600);
    this.size = stat.size;
    const stream = createWriteStream(this.file, { fd });
    // A failed write (ENOSPC, EIO) ends the stream for good: let go of it, and the next sample
    // opens the file again. Each line it held reports its own loss through its callback.
    stream.on('error', () => {
      if (this.stream === stream) this.stream = undefined;
    });
    this.stream = stream;
    return stream;
  }

  write(sample: object): void {
    const line = JSON.stringify(sample) + '\n';
    const bytes = Buffer.byteLength(line);
    if (this.size + bytes > this.maxBytes && this.size > 0) this.rotate();
    let stream: WriteStream;
    try {
      stream = this.open();
    } catch (err) {
      return this.failures.failed('open_failed', err as Error);
    }
    stream.write(line, (err) => (err ? this.failures.failed('write_failed', err) : this.failures.stored()));
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
    const stream = this.stream;
    this.stream = undefined;
    return new Promise((resolve) => (stream ? stream.end(() => resolve()) : resolve()));
  }
}

/** Mismatch samples go to a Redis Stream when the rules use Redis, else to a capped JSONL file. */
export function createSampleSink(config: GatewayConfig, metrics: Metrics, logger: Logger): SampleSink {
  const cfg = config.shadow.samples;
  const redis = config.rules.redis;
  if (!redis) return new JsonlFileSink(cfg.file, cfg.maxBytes, metrics, logger);
  const client = createRedisClient(redis, { failFast: true });
  client.on('error', () => undefined);
  void client.connect().catch(() => undefined);
  return new RedisStreamSink(client, `${redis.prefix}{diffs}:samples`, cfg.streamMaxLen, metrics, logger);
}
