/**
 * Step 3 of the lifecycle: shadow traffic. For a sampled request of a route with `shadow`, a copy
 * goes to the backend that did not serve (same x-request-id, plus x-switchyard-shadow: 1) while
 * the primary request is forwarded; the primary response is teed, up to max_body, as it streams
 * to the client. When both answers are in, they are compared off the request path and the
 * verdict goes to metrics, the report and the sample sink. The primary path never waits: the
 * copy runs under bounded concurrency with a bounded queue, and is dropped when both are full.
 */
import { PassThrough, type Readable } from 'node:stream';
import { Pool } from 'undici';
import { compareResponses, generalizeField, type CapturedResponse, type Comparison, type FieldDiff } from '../diff/compare.js';
import { parseJsonExact, toPlainJson } from '../diff/exact-json.js';
import { SHADOW_HEADER } from '../forward/headers.js';
import type { GatewayRuntime, RequestContext, ShadowStart, ShadowStep } from '../gateway/lifecycle.js';
import type { Route } from '../rules/rule-set.js';
import { stickyValue } from '../router/decide.js';
import type { ShadowPolicy } from '../rules/shadow-policy.js';
import { bucketOf, randomBucket } from '../rules/split.js';
import { createRedisClient } from '../store/redis-client.js';
import { ShadowBreaker } from './breaker.js';
import { ResponseCapture } from './capture.js';
import { ShadowLimiter } from './limiter.js';
import { NoiseLearner } from './noise.js';
import { isRedactedField, REDACTED, redactHeaders, redactJson } from './redact.js';
import { DiffReport, type Outcome } from './report.js';
import { JsonlFileSink, RedisStreamSink, type SampleSink } from './sample-sink.js';
import { isTimeout, sendCopy } from './shadow-client.js';

/** At most this many distinct `field` label values per route; the rest count as "other". */
const MAX_FIELD_LABELS = 20;
/** Body text kept in a stored sample. */
const SAMPLE_BODY_BYTES = 8 * 1024;

export interface ShadowRuntime extends ShadowStep {
  readonly report: DiffReport;
  readonly noise: NoiseLearner;
  close(): Promise<void>;
}

/** The backend a copy goes to: `to`, or the other of legacy/pipeline, or the next one declared. */
export function shadowTarget(policy: ShadowPolicy, served: string, backends: readonly string[]): string | undefined {
  if (policy.to) return policy.to;
  if (served === 'legacy' && backends.includes('pipeline')) return 'pipeline';
  if (served === 'pipeline' && backends.includes('legacy')) return 'legacy';
  return backends.find((b) => b !== served);
}

/** Whether this request is sampled; with a sticky key, the same keys stay sampled. */
export function isSampled(policy: ShadowPolicy, route: Route, stickyValue: string | undefined, random: () => number = Math.random): boolean {
  if (policy.percent >= 100) return true;
  if (policy.percent <= 0) return false;
  const bucket = stickyValue === undefined ? randomBucket(random) : bucketOf(`${route.salt}:shadow`, stickyValue);
  return bucket < policy.percent * 100;
}

export function createShadowStep(rt: GatewayRuntime): ShadowRuntime {
  const cfg = rt.config.shadow;
  const metrics = rt.metrics;
  const limiter = new ShadowLimiter({ maxConcurrent: cfg.maxConcurrent, maxPerRoute: cfg.maxPerRoute, queue: cfg.queue });
  const report = new DiffReport();
  const noise = new NoiseLearner();
  const backendOrder = rt.config.backends.map((b) => b.name);
  const fieldLabels = new Map<string, Set<string>>();
  const breakers = new Map<string, ShadowBreaker>();
  const breakerFor = (target: string): ShadowBreaker => {
    let b = breakers.get(target);
    if (!b) breakers.set(target, (b = new ShadowBreaker()));
    return b;
  };
  const sink = createSink(rt);

  // Shadow traffic has pools of its own, sized to the shadow concurrency limit.
  const pools = new Map<string, Pool>();
  const poolFor = (backend: string): Pool => {
    let p = pools.get(backend);
    if (!p) {
      const b = rt.upstreams.get(backend)!.config;
      p = new Pool(b.url.origin, { connections: cfg.maxConcurrent, connect: { timeout: b.connectTimeoutMs } });
      pools.set(backend, p);
    }
    return p;
  };

  const fieldLabel = (route: string, field: string): string => {
    let set = fieldLabels.get(route);
    if (!set) fieldLabels.set(route, (set = new Set()));
    if (set.has(field)) return field;
    if (set.size < MAX_FIELD_LABELS) {
      set.add(field);
      return field;
    }
    return 'other';
  };

  function finish(route: string, outcome: Outcome, reason?: string): void {
    metrics.shadowComparisons.inc({ route, result: outcome });
    report.record(route, outcome, reason);
  }

  function sampleBody(r: CapturedResponse, policy: ShadowPolicy): unknown {
    const text = r.body.subarray(0, SAMPLE_BODY_BYTES).toString('utf8');
    try {
      // Exact, as in the comparison: a sample must not show two different IDs as one number.
      return redactJson(toPlainJson(parseJsonExact(r.body.toString('utf8'))), policy.redactJson);
    } catch {
      return r.body.length > SAMPLE_BODY_BYTES ? text + '…' : text;
    }
  }

  function judge(ctx: RequestContext, policy: ShadowPolicy, target: string, primary: CapturedResponse | Error, copy: CapturedResponse | Error, second?: CapturedResponse | Error): void {
    const route = ctx.decision.routeName;
    const served = ctx.decision.backend;
    if (copy instanceof Error) breakerFor(target).failure();
    else breakerFor(target).success();
    if (primary instanceof Error) return finish(route, 'skipped', 'primary_error');
    if (copy instanceof Error) {
      metrics.shadowRequests.inc({ route, target, outcome: isTimeout(copy) ? 'timeout' : 'error' });
      return finish(route, isTimeout(copy) ? 'shadow_timeout' : 'shadow_error');
    }
    metrics.shadowRequests.inc({ route, target, outcome: 'sent' });
    // Noise first, so that this very comparison already benefits from what it taught.
    if (second && !(second instanceof Error)) {
      const sameBackend = compareResponses(primary, second, policy.compare);
      if (sameBackend.diffs.length) noise.learn(route, sameBackend.diffs);
    }
    const c: Comparison = compareResponses(primary, copy, policy.compare, (f) => noise.isNoise(route, f));
    finish(route, c.result, c.reason);
    if (c.result !== 'mismatch') return;
    for (const d of c.diffs) metrics.shadowDiffFields.inc({ route, field: fieldLabel(route, generalizeField(d.field)) });
    const hide = (d: FieldDiff): FieldDiff => (isRedactedField(d.field, policy.redactJson) ? { ...d, a: REDACTED, b: REDACTED } : d);
    report.fields(route, c.diffs, (d) => {
      const h = hide(d);
      return { request_id: ctx.requestId, method: ctx.facts.method, path: ctx.facts.path, values: { [served]: h.a, [target]: h.b } };
    });
    sink.write({
      time: new Date().toISOString(),
      route,
      request_id: ctx.requestId,
      method: ctx.facts.method,
      path: ctx.facts.path,
      query: ctx.facts.query,
      request_headers: redactHeaders(ctx.req.headers),
      diffs: c.diffs.map(hide),
      noise: c.noise.map((d) => d.field),
      [served]: { status: primary.status, headers: redactHeaders(primary.headers), body: sampleBody(primary, policy) },
      [target]: { status: copy.status, headers: redactHeaders(copy.headers), body: sampleBody(copy, policy) },
    });
  }

  /** Keeps the request body, up to max_body, while it streams to the primary backend. */
  function teeBody(ctx: RequestContext, maxBytes: number): { primary: Readable; body: Promise<Buffer | undefined> } {
    const { req } = ctx;
    const primary = new PassThrough();
    let chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    const body = new Promise<Buffer | undefined>((resolve) => {
      req.on('data', (c: Buffer) => {
        if (!over) {
          size += c.length;
          if (size > maxBytes) {
            over = true;
            chunks = [];
          } else chunks.push(c);
        }
        if (!primary.write(c)) req.pause();
      });
      primary.on('drain', () => req.resume());
      req.on('end', () => {
        primary.end();
        resolve(over ? undefined : Buffer.concat(chunks));
        chunks = [];
      });
      req.on('error', (err) => {
        primary.destroy(err);
        resolve(undefined);
      });
      req.on('close', () => {
        if (!req.complete) {
          primary.destroy(new Error('client went away'));
          resolve(undefined);
        }
      });
    });
    return { primary, body };
  }

  function begin(ctx: RequestContext): ShadowStart | undefined {
    const route = ctx.decision.route;
    const policy = route?.shadow;
    if (!route || !policy) return undefined;
    // A route without a split still has its sticky key for sampling.
    const key = ctx.decision.stickyValue ?? (route.sticky && stickyValue(route.sticky, ctx.facts));
    if (!isSampled(policy, route, key)) return undefined;
    const name = route.name;
    const served = ctx.decision.backend;
    const target = shadowTarget(policy, served, backendOrder);
    const skip = (reason: string): undefined => {
      metrics.shadowRequests.inc({ route: name, target: target ?? '-', outcome: 'skipped' });
      finish(name, 'skipped', reason);
      ctx.shadow = `skipped:${reason}`;
      return undefined;
    };
    if (!target || target === served) return skip('same_backend');
    if (!policy.methods.has(ctx.facts.method)) return skip('method');
    const len = Number(ctx.req.headers['content-length'] ?? 0);
    if (len > policy.maxBodyBytes) return skip('body_too_large');

    if (!breakerFor(target).allow()) return skip('target_down');
    if (!limiter.canAccept(name)) {
      metrics.shadowRequests.inc({ route: name, target, outcome: 'dropped' });
      report.dropped(name);
      ctx.shadow = 'dropped';
      return undefined;
    }
    const hasBody = len > 0 || ctx.req.headers['transfer-encoding'] !== undefined;
    const tee = hasBody ? teeBody(ctx, policy.maxBodyBytes) : undefined;
    const primary = new ResponseCapture(policy.maxBodyBytes);
    const learn = policy.learnNoisePercent > 0 && Math.random() * 100 < policy.learnNoisePercent;
    limiter.submit(name, () => {
      metrics.shadowInFlight.inc();
      const copy = new ResponseCapture(policy.maxBodyBytes);
      const second = learn ? new ResponseCapture(policy.maxBodyBytes) : undefined;
      const headers = { ...ctx.upstreamHeaders, [SHADOW_HEADER]: '1' };
      void (tee ? tee.body : Promise.resolve(null)).then((body) => {
        if (body === undefined) {
          copy.onError(Object.assign(new Error('request body unavailable for the copy'), { code: 'SWY_SHADOW_NO_BODY' }));
          second?.onError(new Error('no body'));
          return;
        }
        const request = { path: ctx.req.url ?? '/', method: ctx.facts.method, headers, body };
        sendCopy(poolFor(target), request, copy, policy.timeoutMs);
        if (second) sendCopy(poolFor(served), request, second, policy.timeoutMs);
      });
      void Promise.all([primary.done, copy.done, second?.done]).then(([p, c, s]) => {
        limiter.release(name);
        metrics.shadowInFlight.dec();
        try {
          if (c instanceof Error && (c as { code?: string }).code === 'SWY_SHADOW_NO_BODY') finish(name, 'skipped', 'body_too_large');
          else judge(ctx, policy, target, p, c, s);
        } catch (err) {
          rt.logger.error({ err, route: name }, 'shadow comparison failed');
        }
      });
    });
    ctx.shadow = target;
    return { tap: primary, body: tee?.primary };
  }

  return {
    report,
    noise,
    begin,
    async close() {
      await Promise.allSettled([...pools.values()].map((p) => p.destroy()));
      await sink.close();
    },
  };
}

/** Mismatch samples go to a Redis Stream when the rules use Redis, else to a capped JSONL file. */
function createSink(rt: GatewayRuntime): SampleSink {
  const cfg = rt.config.shadow.samples;
  const redis = rt.config.rules.redis;
  if (!redis) return new JsonlFileSink(cfg.file, cfg.maxBytes);
  const client = createRedisClient(redis, { failFast: true });
  client.on('error', () => undefined);
  void client.connect().catch(() => undefined);
  return new RedisStreamSink(client, `${redis.prefix}{diffs}:samples`, cfg.streamMaxLen);
}
