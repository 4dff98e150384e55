/**
 * Step 4 of the lifecycle, forward, with the route's fallback (docs/resilience.md):
 *
 *   - before the shadow step, `redirect`: a route whose backend is down (no available host) sends
 *     the request to its fallback directly, without waiting for a failure;
 *   - `forward`: the request goes to its backend (whose hosts retry among themselves); when that
 *     fails before any response byte reached the client, it is sent once to the fallback, if the
 *     failure is one the fallback takes (`on`), the method may be sent twice (`methods`), the body
 *     was kept whole (`max_body`) and the route's retry budget has room. Otherwise the client gets
 *     the original answer (a 502/504, or the backend's 5xx).
 *
 * A route without a fallback, on a backend that cannot retry, takes the same path as before and
 * allocates nothing more: the fallback path is only built when a route has one.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { ERRORS } from '../errors.js';
import type { ForwardOptions, ForwardOutcome } from '../forward/backend.js';
import { BACKEND_HEADER, FALLBACK_HEADER, REQUEST_ID } from '../http/headers.js';
import { readWholeBody } from '../http/whole-body.js';
import type { FallbackPolicy } from '../rules/fallback-policy.js';
import type { ShadowStart } from '../shadow/shadow-step.js';
import type { GatewayRuntime, RequestContext } from './contracts.js';

export interface ForwardStep {
  /** Before the shadow step: counts the request in its route's budget; a down backend → the fallback. */
  redirect(ctx: RequestContext): void;
  /** Forwards, falls back when the route allows it, and calls `done` once with the final outcome. */
  forward(ctx: RequestContext, shadow: ShadowStart | undefined, done: (outcome: ForwardOutcome) => void): void;
}

function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined;
}

export function createForwardStep(rt: GatewayRuntime): ForwardStep {
  const debug = rt.config.debugHeaders;
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

  function forward(ctx: RequestContext, shadow: ShadowStart | undefined, done: (outcome: ForwardOutcome) => void): void {
    const { req, res, decision } = ctx;
    const upstream = rt.backends.get(decision.backend)!;
    const responseHeaders: Record<string, string> = { [REQUEST_ID]: ctx.requestId };
    if (debug) {
      responseHeaders[BACKEND_HEADER] = decision.backend;
      if (ctx.fallback) responseHeaders[FALLBACK_HEADER] = ctx.fallback.reason;
    }
    // Sent once: a request already on its fallback has none left.
    const policy = ctx.fallback ? undefined : policyOf(ctx);
    if (!policy || policy.to === decision.backend) {
      upstream.forward(req, res, { headers: ctx.upstreamHeaders, responseHeaders, tap: shadow?.tap, body: shadow?.body, budget: ctx.budget }, done);
      return;
    }
    const send = (body: Buffer | undefined, notReplayable?: string) => forwardWithFallback(ctx, policy, shadow, responseHeaders, body, notReplayable, done);
    if (!policy.methods.has(ctx.facts.method)) return send(undefined, 'method');
    if (!hasBody(req)) return send(undefined);
    const len = Number(req.headers['content-length']);
    if (req.headers['transfer-encoding'] !== undefined || !(len <= policy.maxBodyBytes)) return send(undefined, 'body');
    void readWholeBody((shadow?.body as Readable | undefined) ?? req, len).then((body) => {
      if (body) return send(body);
      // The client went away before its body arrived: nothing left to forward.
      shadow?.tap?.onError(new Error('client went away'));
      res.destroy();
      done({ status: 0, bytesOut: 0, error: ERRORS.CLIENT_ABORTED });
    });
  }

  function forwardWithFallback(
    ctx: RequestContext,
    policy: FallbackPolicy,
    shadow: ShadowStart | undefined,
    responseHeaders: Record<string, string>,
    body: Buffer | undefined,
    notReplayable: string | undefined,
    done: (outcome: ForwardOutcome) => void,
  ): void {
    const { req, res, decision } = ctx;
    const on = policy.on as ReadonlySet<string>;
    const opts: ForwardOptions = {
      headers: ctx.upstreamHeaders,
      responseHeaders,
      tap: shadow?.tap,
      body: body ?? shadow?.body,
      budget: ctx.budget,
      onFailureBeforeResponse(reason) {
        if (!on.has(reason)) return false;
        // A fallback marked down is still tried: the original answer is a certain failure, and
        // health checks can be wrong (a stalled machine times them out).
        const skipped = notReplayable ?? (ctx.budget && !ctx.budget.tryAcquire() ? 'budget' : undefined);
        if (skipped) ctx.fallbackSkipped = skipped;
        return !skipped;
      },
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
      rt.backends.get(to)!.forward(req, res, { headers: ctx.upstreamHeaders, responseHeaders: headers, body, budget: ctx.budget }, done);
    });
  }

  return { redirect, forward };
}
