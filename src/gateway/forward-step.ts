/**
 * Step 4 of the lifecycle, forward (docs/lifecycle.md, docs/resilience.md):
 *
 *   - guards against slow clients (issue 11): the request body under limits.body_timeout, read
 *     whole first when the backend asks for request buffering, and the response under
 *     limits.send_timeout (in the backend's forwarder);
 *   - before the shadow step, `redirect`: a route whose backend is down (no available host) sends
 *     the request to its fallback directly, without waiting for a failure;
 *   - `forward`: the request goes to its backend (whose hosts retry among themselves); when that
 *     fails before any response byte reached the client, it is sent once to the fallback, if the
 *     failure is one the fallback takes (`on`), the method may be sent twice (`methods`), the body
 *     was read whole and the route's retry budget has room. Otherwise the client gets the
 *     original answer (a 502/504, or the backend's 5xx).
 *
 * A route without a fallback takes the same path as before: the fallback path is only built when
 * a route has one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { classifyUpstreamError, ERRORS, errorBody } from '../errors.js';
import type { Backend, ForwardOptions, ForwardOutcome } from '../forward/backend.js';
import { bufferBody, guardBody, hasRequestBody } from '../http/body-guard.js';
import { BACKEND_HEADER, FALLBACK_HEADER, REQUEST_ID } from '../http/headers.js';
import type { FallbackPolicy } from '../rules/fallback-policy.js';
import type { ShadowStart } from '../shadow/shadow-step.js';
import type { GatewayRuntime, RequestContext } from './contracts.js';

export interface ForwardStep {
  /** Before the shadow step: counts the request in its route's budget; a down backend → the fallback. */
  redirect(ctx: RequestContext): void;
  /** Forwards, falls back when the route allows it, and calls `done` once with the final outcome. */
  forward(ctx: RequestContext, shadow: ShadowStart | undefined, done: (outcome: ForwardOutcome) => void): void;
}

type Done = (outcome: ForwardOutcome) => void;

export function createForwardStep(rt: GatewayRuntime): ForwardStep {
  const debug = rt.config.debugHeaders;
  const limits = rt.config.limits;
  // Backends whose hosts retry among themselves draw on the route's budget even without a fallback.
  const retrying = new Set(rt.config.backends.filter((b) => b.retries.attempts > 0 && b.urls.length > 1).map((b) => b.name));

  /** A tester's forced backend is what the tester wants to see, failures included. */
  const policyOf = (ctx: RequestContext): FallbackPolicy | undefined => (ctx.decision.placement === 'override' ? undefined : ctx.decision.route?.fallback);

  function redirect(ctx: RequestContext): void {
    const policy = policyOf(ctx);
    const from = ctx.decision.backend;
    if (!policy && !retrying.has(from)) return;
    const budget = rt.budgets.get(ctx.decision.routeName);
    budget.record();
    ctx.budget = budget;
    if (!policy || policy.to === from || rt.backends.get(from)!.up || !rt.backends.get(policy.to)!.up) return;
    // Over budget, the request still goes to its own backend: its hosts may be back, and if not,
    // the client gets the original answer.
    if (!budget.tryAcquire()) return;
    ctx.decision = { ...ctx.decision, backend: policy.to };
    ctx.fallback = { from, to: policy.to, reason: 'down' };
  }

  /** The body failed before a connection was taken: answered here, as the forwarder would. */
  function bodyFailed(backend: Backend, res: ServerResponse, opts: ForwardOptions, done: Done, err: Error): void {
    const e = classifyUpstreamError(err);
    opts.tap?.onError(err);
    if (e === ERRORS.CLIENT_TIMEOUT && !res.headersSent && !res.destroyed) {
      const text = errorBody(e, { backend: backend.name });
      res.writeHead(e.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), connection: 'close', ...opts.responseHeaders });
      res.end(text);
      return done({ status: e.status, bytesOut: 0, error: e, cause: err });
    }
    res.destroy();
    done({ status: 0, bytesOut: 0, error: ERRORS.CLIENT_ABORTED, cause: err });
  }

  /**
   * The body under its idle timeout, read whole up to `limit` bytes when `limit` > 0: a Buffer
   * when it fit (it can be sent again), else a stream.
   */
  function prepareBody(req: IncomingMessage, res: ServerResponse, source: Readable | undefined, limit: number): Readable | Promise<Readable | Buffer> {
    const body = guardBody(source ?? req, res, limits.bodyTimeoutMs);
    return limit > 0 ? bufferBody(body, limit) : body;
  }

  function forward(ctx: RequestContext, shadow: ShadowStart | undefined, done: Done): void {
    const { req, res, decision } = ctx;
    const upstream = rt.backends.get(decision.backend)!;
    const responseHeaders: Record<string, string> = { [REQUEST_ID]: ctx.requestId };
    if (debug) {
      responseHeaders[BACKEND_HEADER] = decision.backend;
      if (ctx.fallback) responseHeaders[FALLBACK_HEADER] = ctx.fallback.reason;
    }
    const opts: ForwardOptions = {
      headers: ctx.upstreamHeaders,
      responseHeaders,
      tap: shadow?.tap,
      body: shadow?.body,
      budget: ctx.budget,
      sendTimeoutMs: limits.sendTimeoutMs,
    };
    // Sent once: a request already on its fallback has none left.
    const policy = ctx.fallback ? undefined : policyOf(ctx);
    const fallback = policy && policy.to !== decision.backend ? policy : undefined;
    const notReplayable = fallback && !fallback.methods.has(ctx.facts.method) ? 'method' : undefined;
    if (!hasRequestBody(req)) return fallback ? withFallback(ctx, fallback, opts, undefined, notReplayable, done) : upstream.forward(req, res, opts, done);
    // A body the fallback may send again is read whole first, up to the larger bound.
    const limit = fallback && !notReplayable ? Math.max(fallback.maxBodyBytes, upstream.config.requestBuffering) : upstream.config.requestBuffering;
    const body = prepareBody(req, res, shadow?.body, limit);
    const go = (b: Readable | Buffer) => {
      opts.body = b;
      if (!fallback) return upstream.forward(req, res, opts, done);
      withFallback(ctx, fallback, opts, Buffer.isBuffer(b) ? b : undefined, notReplayable ?? (Buffer.isBuffer(b) ? undefined : 'body'), done);
    };
    if (!(body instanceof Promise)) return go(body);
    body.then(go, (err: Error) => bodyFailed(upstream, res, opts, done, err));
  }

  function withFallback(
    ctx: RequestContext,
    policy: FallbackPolicy,
    opts: ForwardOptions,
    body: Buffer | undefined,
    notReplayable: string | undefined,
    done: Done,
  ): void {
    const { req, res, decision } = ctx;
    const on = policy.on as ReadonlySet<string>;
    opts.onFailureBeforeResponse = (reason) => {
      if (!on.has(reason)) return false;
      // A fallback marked down is still tried: the original answer is a certain failure, and
      // health checks can be wrong (a stalled machine times them out).
      const skipped = notReplayable ?? (ctx.budget && !ctx.budget.tryAcquire() ? 'budget' : undefined);
      if (skipped) ctx.fallbackSkipped = skipped;
      return !skipped;
    };
    rt.backends.get(decision.backend)!.forward(req, res, opts, (outcome) => {
      if (!outcome.handedOff) return done(outcome);
      const to = policy.to;
      ctx.fallback = { from: decision.backend, to, reason: outcome.handedOff, error: outcome.error };
      const headers: Record<string, string> = { [REQUEST_ID]: ctx.requestId };
      if (debug) {
        headers[BACKEND_HEADER] = to;
        headers[FALLBACK_HEADER] = outcome.handedOff;
      }
      rt.backends
        .get(to)!
        .forward(req, res, { headers: ctx.upstreamHeaders, responseHeaders: headers, body, budget: ctx.budget, sendTimeoutMs: limits.sendTimeoutMs }, done);
    });
  }

  return { redirect, forward };
}
