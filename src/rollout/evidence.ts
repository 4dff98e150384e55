/**
 * Evidence from the whole fleet (docs/rollouts.md, "Evidence"). Each gateway process counts, per
 * route and backend, requests, 5xx and a latency histogram with fixed buckets, and per route the
 * shadow comparisons by result; it adds them into Redis every `flush` in time buckets of `bucket`
 * width, with HINCRBY + EXPIRE in one pipeline, off the request path:
 *
 *   PREFIX{rollout}:ev:ROUTE:BUCKETSTART   hash, BUCKETSTART in epoch ms
 *     req:BACKEND  5xx:BACKEND  lat:BACKEND:I  (I indexes LATENCY_BUCKETS, then the overflow)
 *     cmp:RESULT   cmp:shadow_error:TARGET  cmp:shadow_timeout:TARGET
 *
 * The hash tag keeps every key in one slot on Redis Cluster. A flush that fails (Redis down) is
 * dropped: a gate then sees less evidence and holds longer, never promotes on more.
 */
import type { Logger } from '../log/logger.js';
import { LATENCY_BUCKETS } from '../metrics/catalogue.js';
import type { RedisClient } from '../store/redis-client.js';

export interface BackendEvidence {
  requests: number;
  errors: number;
  /** Counts per LATENCY_BUCKETS bound, then the overflow bucket. */
  latency: number[];
}

export interface RouteEvidence {
  backends: Record<string, BackendEvidence>;
  /** By result (match, mismatch, noise, skipped), and `shadow_error:TARGET`, `shadow_timeout:TARGET`. */
  comparisons: Record<string, number>;
}

export interface EvidenceOptions {
  prefix: string;
  /** Width of a time bucket (ms); every gateway of a fleet uses the same. */
  bucketMs: number;
  flushMs: number;
  /** How long a bucket is kept (ms). */
  retainMs: number;
}

const SLOTS = 2 + LATENCY_BUCKETS.length + 1;

interface RouteCounters {
  backends: Map<string, Float64Array>;
  comparisons: Map<string, number>;
  dirty: boolean;
}

export function evidenceKey(prefix: string, route: string, bucketStart: number): string {
  return `${prefix}{rollout}:ev:${route}:${bucketStart}`;
}

export function emptyEvidence(): RouteEvidence {
  return { backends: {}, comparisons: {} };
}

export class Evidence {
  private readonly routes = new Map<string, RouteCounters>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failures = 0;

  constructor(
    readonly redis: RedisClient,
    readonly options: EvidenceOptions,
    private readonly logger?: Logger,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.flush(), this.options.flushMs);
    this.timer.unref();
    return this;
  }

  private counters(route: string): RouteCounters {
    let r = this.routes.get(route);
    if (!r) this.routes.set(route, (r = { backends: new Map(), comparisons: new Map(), dirty: false }));
    return r;
  }

  /** Called by the gateway's log step for every request: array increments, no allocation. */
  request(route: string, backend: string, status: number, seconds: number): void {
    if (route === '-') return;
    const r = this.counters(route);
    let a = r.backends.get(backend);
    if (!a) r.backends.set(backend, (a = new Float64Array(SLOTS)));
    a[0]!++;
    if (status >= 500) a[1]!++;
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
    a[2 + i]!++;
    r.dirty = true;
  }

  /** Called by the shadow judge for every finished comparison; `target` names who failed on errors. */
  comparison(route: string, result: string, target?: string): void {
    const r = this.counters(route);
    const key = target && (result === 'shadow_error' || result === 'shadow_timeout') ? `${result}:${target}` : result;
    r.comparisons.set(key, (r.comparisons.get(key) ?? 0) + 1);
    r.dirty = true;
  }

  /** Adds what was counted since the last flush into the current bucket. Calls coalesce. */
  flush(now = Date.now()): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.doFlush(now).finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async doFlush(now: number): Promise<void> {
    const { prefix, bucketMs, retainMs } = this.options;
    const bucket = Math.floor(now / bucketMs) * bucketMs;
    const pipe = this.redis.pipeline();
    let writes = 0;
    for (const [route, r] of this.routes) {
      if (!r.dirty) continue;
      r.dirty = false;
      const key = evidenceKey(prefix, route, bucket);
      for (const [backend, a] of r.backends) {
        if (a[0] === 0) continue;
        pipe.hincrby(key, `req:${backend}`, a[0]!);
        if (a[1]) pipe.hincrby(key, `5xx:${backend}`, a[1]);
        for (let i = 2; i < SLOTS; i++) if (a[i]) pipe.hincrby(key, `lat:${backend}:${i - 2}`, a[i]!);
        a.fill(0);
      }
      for (const [result, n] of r.comparisons) if (n) pipe.hincrby(key, `cmp:${result}`, n);
      r.comparisons.clear();
      pipe.pexpire(key, retainMs);
      writes++;
    }
    if (writes === 0) return;
    try {
      const results = await pipe.exec();
      const failed = results?.find(([err]) => err);
      if (failed) throw failed[0];
      this.failures = 0;
    } catch (err) {
      if (this.failures++ === 0) this.logger?.warn({ err: (err as Error).message }, 'rollout evidence could not be written to redis; dropped');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch(() => undefined);
  }
}

/** Sums the buckets of `route` that start at or after `sinceMs` (the bucket holding it is left out). */
export async function readEvidence(redis: RedisClient, opts: Pick<EvidenceOptions, 'prefix' | 'bucketMs' | 'retainMs'>, route: string, sinceMs: number, now = Date.now()): Promise<RouteEvidence> {
  const { prefix, bucketMs } = opts;
  const first = Math.ceil(Math.max(sinceMs, now - opts.retainMs) / bucketMs) * bucketMs;
  const pipe = redis.pipeline();
  let n = 0;
  for (let t = first; t <= now; t += bucketMs, n++) pipe.hgetall(evidenceKey(prefix, route, t));
  const out = emptyEvidence();
  if (n === 0) return out;
  const results = (await pipe.exec()) ?? [];
  for (const [err, hash] of results) {
    if (err) throw err;
    for (const [field, raw] of Object.entries(hash as Record<string, string>)) addField(out, field, Number(raw));
  }
  return out;
}

function addField(ev: RouteEvidence, field: string, n: number): void {
  const [kind, name, extra] = splitField(field);
  if (kind === 'cmp') {
    ev.comparisons[name] = (ev.comparisons[name] ?? 0) + n;
    return;
  }
  const b = (ev.backends[name] ??= { requests: 0, errors: 0, latency: new Array<number>(SLOTS - 2).fill(0) });
  if (kind === 'req') b.requests += n;
  else if (kind === '5xx') b.errors += n;
  else if (kind === 'lat') {
    const i = Number(extra);
    if (i >= 0 && i < b.latency.length) b.latency[i]! += n;
  }
}

/** "lat:pipeline:3" → ["lat", "pipeline", "3"]; "cmp:shadow_error:pipeline" → ["cmp", "shadow_error:pipeline"]. */
function splitField(field: string): [string, string, string?] {
  const i = field.indexOf(':');
  const kind = field.slice(0, i);
  const rest = field.slice(i + 1);
  if (kind !== 'lat') return [kind, rest];
  const j = rest.lastIndexOf(':');
  return [kind, rest.slice(0, j), rest.slice(j + 1)];
}
