/**
 * Step 5 of the lifecycle, the log step (pingora's `logging`): the one place that writes the
 * per-request metrics and the access line, for every kind of exchange the gateway has:
 *
 *   request    answered by a backend, or locally (admit, not ready, the catch-all's 500)
 *   upgrade    a WebSocket upgrade, when its tunnel closes (or its handshake failed)
 *   refused    a request Node's parser refused, or an HTTP/1.1 CONNECT, answered on the bare socket
 *
 * It always runs, once per exchange, and never throws. The request path allocates nothing here
 * beyond the status string and, when sampled, the access line (see src/metrics/hot-metrics.ts
 * for why the counters are built the way they are).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { blameOf, type ErrorDef } from '../errors.js';
import type { ForwardOutcome } from '../forward/backend.js';
import { bytesInOf } from '../http/bytes-in.js';
import { clientErrorOf, type RefusedRequest } from '../http/client-errors.js';
import { AccessLog, durationMs } from '../log/access-log.js';
import type { Decision } from '../router/decide.js';
import type { RequestFacts } from '../router/request-facts.js';
import type { Route } from '../rules/rule-set.js';
import type { GatewayRuntime, RequestContext } from './contracts.js';

/** A WebSocket upgrade, from its request to the end of its tunnel. */
export interface UpgradeExchange {
  req: IncomingMessage;
  socket: Duplex & { bytesWritten?: number };
  requestId: string;
  startNs: bigint;
  /** What the socket had written before the upgrade (earlier keep-alive exchanges). */
  writtenBefore: number;
  facts?: RequestFacts;
  /** Absent when the upgrade was refused before a route was decided. */
  decision?: Decision<Route>;
  /** Set by the log step: an upgrade is logged once, however it ended. */
  logged?: boolean;
}

export interface LogStep {
  /** A request arrived: it counts as in flight until `request` logs it. */
  begin(): void;
  /** The end of a request; `ctx` is absent when it was answered before the decide step. */
  request(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    startNs: bigint,
    ctx: RequestContext | undefined,
    outcome: ForwardOutcome,
    bytesIn: number,
  ): void;
  /** The end of an upgrade: `status` is what the client got (101, or a refusal), `error` what ended it. */
  upgrade(x: UpgradeExchange, status: number, error?: ErrorDef): void;
  /** A request Node's parser refused, or an HTTP/1.1 CONNECT (route and backend "-"). */
  refused(r: RefusedRequest): void;
  /** The stop path: writes the buffered access lines. */
  close(): void;
}

/** The access line's protocol, without building the string per request for the usual versions. */
function protocolOf(req: IncomingMessage): string {
  const v = req.httpVersion;
  return v === '1.1' ? 'HTTP/1.1' : v === '2.0' ? 'HTTP/2.0' : v === '1.0' ? 'HTTP/1.0' : `HTTP/${v}`;
}

export function createLogStep(rt: GatewayRuntime): LogStep {
  const { metrics, logger } = rt;
  const access = AccessLog.of(logger, rt.config.log);

  /** The counters every kind of exchange writes; `decided` is the backend routing chose (before a fallback). */
  function count(route: string, backend: string, decision: Decision<Route> | undefined, status: number, error: ErrorDef | undefined, decided = backend): void {
    metrics.requests.inc(route, backend, String(status));
    if (decision) {
      metrics.placements.inc(route, decided, decision.placement);
      if (decision.overrideRejected) metrics.overrideRejected.inc();
    }
    if (error) {
      const blame = blameOf(error);
      if (blame === 'upstream') metrics.upstreamErrors.inc({ backend, reason: error.reason });
      else if (blame === 'client') metrics.clientErrors.inc({ reason: error.reason });
    }
  }

  function request(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    startNs: bigint,
    ctx: RequestContext | undefined,
    outcome: ForwardOutcome,
    bytesIn: number,
  ): void {
    try {
      const seconds = Number(process.hrtime.bigint() - startNs) / 1e9;
      const decision = ctx?.decision;
      const route = decision?.routeName ?? '-';
      // After a fallback, the backend that served is the fallback (forward-step.ts).
      const fallback = ctx?.fallback;
      const backend = fallback?.to ?? decision?.backend ?? '-';
      if (fallback) {
        metrics.fallbacks.inc({ route, from: fallback.from, to: fallback.to, reason: fallback.reason });
        if (fallback.error) metrics.upstreamErrors.inc({ backend: fallback.from, reason: fallback.error.reason });
      }
      if (ctx?.fallbackSkipped) metrics.fallbacksSkipped.inc({ route, reason: ctx.fallbackSkipped });
      // A parser error in the middle of the request (a malformed chunk, the request timeout)
      // was answered on the socket by client-errors.ts; it is what ended the exchange.
      const clientError = clientErrorOf(res);
      const error = clientError ?? outcome.error;
      const status = clientError && !res.headersSent ? clientError.status : outcome.status || (error ? error.status : res.statusCode);
      count(route, backend, decision, status, error, fallback?.from);
      metrics.requestDuration.observe(seconds, route, backend);
      rt.evidence?.request(route, backend, status, seconds);
      metrics.inFlight.dec();
      if (access?.sampled()) {
        access.write({
          request_id: requestId,
          trace_id: ctx?.trace.traceId,
          method: req.method,
          protocol: protocolOf(req),
          path: ctx?.facts.path ?? req.url,
          route,
          backend,
          placement: decision?.placement,
          shadow: ctx?.shadow ?? 'none',
          fallback: fallback ? fallback.reason : ctx?.fallbackSkipped && `skipped:${ctx.fallbackSkipped}`,
          fallback_from: fallback?.from,
          status,
          duration_ms: durationMs(seconds),
          bytes_in: bytesIn,
          bytes_out: outcome.bytesOut,
          reply: outcome.reply,
          error: error?.reason,
          cause: outcome.cause?.message,
        });
      }
    } catch (err) {
      logger.error({ err }, 'log step failed');
    }
  }

  function upgrade(x: UpgradeExchange, status: number, error?: ErrorDef): void {
    if (x.logged) return;
    x.logged = true;
    try {
      const route = x.decision?.routeName ?? '-';
      const backend = x.decision?.backend ?? '-';
      // A tunnel lasts as long as its session: it is counted, but kept out of the request
      // duration histogram and the in-flight gauge, whose figures are about requests.
      count(route, backend, x.decision, status, error);
      const bytesIn = bytesInOf(x.socket);
      if (access?.sampled()) {
        access.write({
          request_id: x.requestId,
          method: x.req.method,
          protocol: protocolOf(x.req),
          path: x.facts?.path ?? x.req.url,
          route,
          backend,
          placement: x.decision?.placement,
          shadow: 'none',
          status,
          duration_ms: durationMs(Number(process.hrtime.bigint() - x.startNs) / 1e9),
          bytes_in: bytesIn,
          bytes_out: (x.socket.bytesWritten ?? 0) - x.writtenBefore,
          error: error?.reason,
        });
      }
    } catch (err) {
      logger.error({ err }, 'log step failed');
    }
  }

  function refused(r: RefusedRequest): void {
    try {
      count('-', '-', undefined, r.error.status, r.error);
      if (access?.sampled()) {
        // Method and path only for CONNECT: otherwise the request line is what the parser refused.
        access.write({
          method: r.method,
          protocol: r.protocol,
          path: r.path,
          route: '-',
          backend: '-',
          shadow: 'none',
          status: r.error.status,
          bytes_in: r.bytesIn,
          bytes_out: r.bytesOut,
          error: r.error.reason,
        });
      }
    } catch (err) {
      logger.error({ err }, 'log step failed');
    }
  }

  return { begin: () => metrics.inFlight.inc(), request, upgrade, refused, close: () => access?.close() };
}
