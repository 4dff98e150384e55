/**
 * Step 3 of the lifecycle: shadow traffic. For a sampled request of a route with `shadow`, a copy
 * goes to the backend that did not serve (same x-request-id, plus x-switchyard-shadow: 1) while
 * the primary request is forwarded; the primary response is teed, up to max_body, as it streams
 * to the client. When both answers are in, the judge compares them off the request path. The
 * primary path never waits: the copy runs under bounded concurrency with a bounded queue, and is
 * dropped when both are full.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { GatewayConfig } from '../config/gateway-config.js';
import { ERRORS, errorOf } from '../errors.js';
import type { Backend, ResponseTap } from '../forward/backend.js';
import { SHADOW_HEADER } from '../http/headers.js';
import { childTraceparent, TRACEPARENT, type TraceContext } from '../http/trace-context.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/catalogue.js';
import type { Decision } from '../router/decide.js';
import type { RequestFacts } from '../router/request-facts.js';
import { stickyValue } from '../router/sticky-key.js';
import type { Route } from '../rules/rule-set.js';
import { teeBody } from './body-tee.js';
import { BudgetShare, BufferBudget } from './buffer-budget.js';
import { ResponseCapture } from './capture.js';
import { ComparePool } from './compare-pool.js';
import { type ComparisonSink, type CopyTiming, ShadowJudge } from './judge.js';
import { ShadowLimiter } from './limiter.js';
import { NoiseLearner } from './noise.js';
import { compileRedaction } from './redact.js';
import { DiffReport } from './report.js';
import { createSampleSink } from './sample-sink.js';
import { isSampled, shadowTarget } from './sampling.js';
import { sendCopy } from './shadow-client.js';
import { ShadowTargets } from './shadow-targets.js';

/** What the shadow step reads of a request; the gateway's RequestContext is one. */
export interface ShadowRequest {
  req: IncomingMessage;
  requestId: string;
  facts: RequestFacts;
  decision: Decision<Route>;
  /** Headers of the upstream request; the copy reuses them. */
  upstreamHeaders: Record<string, string | string[]>;
  /** The request's trace: the copy is a sibling span of the serving backend's call. */
  trace: TraceContext;
  /** Set here for the access log: the copy's target, "dropped", or "skipped:REASON". */
  shadow?: string;
}

/** What the shadow step hands to the forward step. */
export interface ShadowStart {
  /** Observer of the primary response (a tee up to max_body). */
  tap?: ResponseTap;
  /** The request body to forward, when the step had to tee it. */
  body?: Readable;
}

/** The shadow step's contract with the lifecycle. */
export interface ShadowStep {
  /** Starts a shadow copy if the route asks for one. Must not block, must not throw. */
  begin(ctx: ShadowRequest): ShadowStart | undefined;
}

export interface ShadowRuntime extends ShadowStep {
  readonly report: DiffReport;
  readonly noise: NoiseLearner;
  close(): Promise<void>;
}

/** What the shadow step is built from; the gateway's runtime is one. */
export interface ShadowDeps {
  config: GatewayConfig;
  metrics: Metrics;
  logger: Logger;
  backends: ReadonlyMap<string, Backend>;
  /** Where comparisons are counted for rollouts (set by the gateway when rules come from Redis). */
  evidence?: ComparisonSink;
}

export function createShadowStep(rt: ShadowDeps): ShadowRuntime {
  const cfg = rt.config.shadow;
  const metrics = rt.metrics;
  const limiter = new ShadowLimiter({ maxConcurrent: cfg.maxConcurrent, maxPerRoute: cfg.maxPerRoute, queue: cfg.queue });
  const report = new DiffReport();
  const noise = new NoiseLearner();
  const backendOrder = rt.config.backends.map((b) => b.name);
  const targets = new ShadowTargets(rt.backends, cfg.maxConcurrent);
  const sink = createSampleSink(rt.config, metrics, rt.logger);
  const compares = new ComparePool(cfg.compareThreads);
  const judge = new ShadowJudge(metrics, report, noise, sink, targets, compares, compileRedaction(cfg.redact), rt);
  const budget = new BufferBudget(cfg.maxBufferedBytes, (n) => metrics.shadowBufferedBytes.set(n));

  function begin(ctx: ShadowRequest): ShadowStart | undefined {
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
      judge.skipped(name, target ?? '-', reason);
      ctx.shadow = `skipped:${reason}`;
      return undefined;
    };
    if (!target || target === served) return skip('same_backend');
    if (!policy.methods.has(ctx.facts.method)) return skip('method');
    const len = Number(ctx.req.headers['content-length'] ?? 0);
    if (len > policy.maxBodyBytes) return skip('body_too_large');

    if (!targets.breaker(target).allow()) return skip('target_down');
    // A body announced larger than what the global buffer has left cannot be kept whole.
    if (!budget.fits(len) || budget.bytes >= budget.maxBytes) return skip('buffer_full');
    if (!limiter.canAccept(name)) {
      judge.dropped(name, target);
      ctx.shadow = 'dropped';
      return undefined;
    }
    const hasBody = len > 0 || ctx.req.headers['transfer-encoding'] !== undefined;
    // Every byte this copy holds (its body, the primary's and its own answers) is one share of
    // the global budget, given back whole when the copy settles.
    const shares: BudgetShare[] = [];
    const share = () => {
      const s = new BudgetShare(budget);
      shares.push(s);
      return s;
    };
    const tee = hasBody ? teeBody(ctx.req, policy.maxBodyBytes, share()) : undefined;
    const primary = new ResponseCapture(policy.maxBodyBytes, share());
    const started = performance.now();
    const timing: CopyTiming = {};
    // The primary ended without an answer (504, reset, client abort) while its body may still be
    // arriving: the copy will not be compared, so stop waiting for the body.
    void primary.done.then((p) => {
      if (p instanceof Error) tee?.abandon('primary_error');
    });
    void primary.done.then(() => (timing.primaryMs = performance.now() - started));
    const learn = policy.learnNoisePercent > 0 && Math.random() * 100 < policy.learnNoisePercent;
    const copied = {
      route: name,
      served,
      target,
      requestId: ctx.requestId,
      traceId: ctx.trace.traceId,
      method: ctx.facts.method,
      path: ctx.facts.path,
      query: ctx.facts.query,
      headers: ctx.req.headers,
    };
    limiter.submit(name, () => {
      judge.sent();
      const copy = new ResponseCapture(policy.maxBodyBytes, share());
      const second = learn ? new ResponseCapture(policy.maxBodyBytes, share()) : undefined;
      const headers = { ...ctx.upstreamHeaders, [SHADOW_HEADER]: '1', [TRACEPARENT]: childTraceparent(ctx.trace) };
      let missing: string | undefined;
      void (tee ? tee.body : Promise.resolve(null)).then((body) => {
        if (typeof body === 'string') {
          missing = body;
          const noBody = errorOf(ERRORS.SHADOW_NO_BODY);
          copy.onError(noBody);
          second?.onError(noBody);
          return;
        }
        const request = { path: ctx.req.url ?? '/', method: ctx.facts.method, headers, body };
        const sent = performance.now();
        void copy.done.then(() => (timing.copyMs = performance.now() - sent));
        sendCopy(targets.pool(target), request, copy, policy.timeoutMs);
        if (second) sendCopy(targets.pool(served), request, second, policy.timeoutMs);
      });
      void Promise.all([primary.done, copy.done, second?.done]).then(([p, c, s]) => {
        limiter.release(name);
        if (primary.overBudget || copy.overBudget || second?.overBudget) missing = 'buffer_full';
        // Shares are given back once judged: a comparison in a worker still holds the bodies.
        judge
          .settle(copied, policy, p, c, s, missing, timing)
          .catch((err: unknown) => rt.logger.error({ err, route: name }, 'shadow comparison failed'))
          .finally(() => {
            for (const x of shares) x.releaseAll();
          });
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
      await targets.close();
      await compares.close();
      await sink.close();
    },
  };
}
