/**
 * The life of a request in the gateway, as one ordered list (drawn in docs/lifecycle.md):
 *
 *   1. admit     refuse what will not be forwarded (limits, malformed targets)     → 4xx
 *   2. decide    match a route, pick the backend (override, sticky bucket, random)
 *   3. shadow    start the copy to the other backend, if the route samples this one
 *   4. forward   stream the request to the backend and its answer to the client   → 502/504
 *   5. log       metrics and the access log line; always runs, also after errors
 *
 * Each step is a plain function call below; everything built once (rule table, pools, metric
 * objects) lives in GatewayRuntime, and a request only allocates its small RequestContext.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ERRORS, errorBody, rawErrorResponse, type ErrorDef } from '../errors.js';
import type { ForwardOutcome } from '../forward/backend.js';
import { admit, toOriginForm } from '../http/admission.js';
import { BACKEND_HEADER, REQUEST_ID, upstreamRequestHeaders } from '../http/headers.js';
import { isHttp2Request } from '../http/http2-compat.js';
import { decide } from '../router/decide.js';
import { requestFacts } from '../router/request-facts.js';
import type { RuleSet } from '../rules/rule-set.js';
import type { GatewayRuntime, RequestContext } from './contracts.js';

function localReply(res: ServerResponse, e: ErrorDef, requestId: string, close: boolean): void {
  const body = errorBody(e, { request_id: requestId });
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    [REQUEST_ID]: requestId,
  };
  if (close) headers.connection = 'close';
  res.writeHead(e.status, headers);
  res.end(body);
}

function remoteAddressOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? '';
}

const LAST_READ = Symbol('bytes read at the end of the previous request');

/**
 * Bytes of this request on its connection (request line, headers and body, like nginx's
 * $request_length): what the socket read since the previous request on it ended.
 */
function bytesInOf(socket: Socket & { [LAST_READ]?: number }): number {
  const total = socket.bytesRead;
  const n = total - (socket[LAST_READ] ?? 0);
  socket[LAST_READ] = total;
  return n;
}

/** "https" on a TLS listener (x-forwarded-proto), whatever the HTTP version. */
function schemeOf(req: IncomingMessage): string {
  return (req.socket as Socket & { encrypted?: boolean }).encrypted ? 'https' : 'http';
}

function requestIdOf(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID];
  // Keep a sane client-supplied id so that traces join up; replace anything odd.
  return typeof given === 'string' && given.length > 0 && given.length <= 200 && /^[\x21-\x7e]+$/.test(given) ? given : randomUUID();
}

/** Step 2 for requests and upgrades alike; the decide options are built once, not per request. */
function createRouter(rt: GatewayRuntime) {
  const options = { backends: rt.backendNames, overrideTokenDigest: rt.overrideTokenDigest };
  return (req: IncomingMessage, rules: RuleSet) => {
    const facts = requestFacts(req.method ?? 'GET', req.url ?? '/', req.headers, remoteAddressOf(req));
    const decision = decide(rules, facts, options);
    rt.metrics.placements.inc(decision.routeName, decision.backend, decision.placement);
    if (decision.overrideRejected) rt.metrics.overrideRejected.inc();
    return { facts, decision };
  };
}

export function createRequestHandler(rt: GatewayRuntime) {
  const { metrics } = rt;
  const route = createRouter(rt);
  const accessLog = rt.config.log.access ? rt.logger.child({ kind: 'access' }) : undefined;
  const sample = rt.config.log.accessSample;

  function log(ctx: RequestContext | undefined, req: IncomingMessage, res: ServerResponse, startNs: bigint, outcome: ForwardOutcome, bytesIn = 0): void {
    try {
      record(ctx, req, res, startNs, outcome, bytesIn);
    } catch (err) {
      // The log step must never turn into an unhandled rejection.
      rt.logger.error({ err }, 'log step failed');
    }
  }

  function record(ctx: RequestContext | undefined, req: IncomingMessage, res: ServerResponse, startNs: bigint, outcome: ForwardOutcome, bytesIn: number): void {
    const seconds = Number(process.hrtime.bigint() - startNs) / 1e9;
    const route = ctx?.decision.routeName ?? '-';
    const backend = ctx?.decision.backend ?? '-';
    const code = String(outcome.status || res.statusCode);
    metrics.requests.inc(route, backend, code);
    metrics.requestDuration.observe(seconds, route, backend);
    metrics.inFlight.dec();
    if (outcome.error) {
      if (outcome.error === ERRORS.CLIENT_ABORTED || outcome.error.status < 500) metrics.clientErrors.inc({ reason: outcome.error.reason });
      else metrics.upstreamErrors.inc({ backend, reason: outcome.error.reason });
    }
    if (accessLog && (sample >= 1 || Math.random() < sample)) {
      accessLog.info({
        request_id: ctx?.requestId ?? req.headers[REQUEST_ID],
        method: req.method,
        protocol: `HTTP/${req.httpVersion}`,
        path: ctx?.facts.path ?? req.url,
        route,
        backend,
        placement: ctx?.decision.placement,
        shadow: ctx?.shadow ?? 'none',
        status: Number(code),
        duration_ms: Math.round(seconds * 1e6) / 1e3,
        bytes_in: bytesIn,
        bytes_out: outcome.bytesOut,
        error: outcome.error?.reason,
        cause: outcome.cause?.message,
      });
    }
  }

  return function handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const startNs = process.hrtime.bigint();
    // The socket is detached from `req` once the response ends, so keep it for the byte count.
    const socket = req.socket as Socket & { [LAST_READ]?: number };
    metrics.inFlight.inc();
    const requestId = requestIdOf(req);
    let ctx: RequestContext | undefined;
    try {
      // 1. admit
      if (rt.draining) res.setHeader('connection', 'close');
      const refused = admit(req, rt.config.limits);
      const rules = rt.rules.rules;
      if (refused || !rules) {
        const e = refused ?? ERRORS.NOT_READY;
        localReply(res, e, requestId, e.status < 500);
        log(undefined, req, res, startNs, { status: e.status, bytesOut: 0, error: e });
        return;
      }

      // 2. decide
      toOriginForm(req);
      const { facts, decision } = route(req, rules);
      const headers = upstreamRequestHeaders({
        headers: req.headers,
        remoteAddress: facts.remoteAddress,
        protocol: schemeOf(req),
        requestId,
        route: decision.routeName,
      });
      ctx = { req, res, startNs, requestId, rules, facts, decision, upstreamHeaders: headers };

      // 3. shadow
      const shadow = rt.shadow?.begin(ctx);

      // 4. forward
      const upstream = rt.backends.get(decision.backend)!;
      const responseHeaders: Record<string, string> = { [REQUEST_ID]: requestId };
      if (rt.config.debugHeaders) responseHeaders[BACKEND_HEADER] = decision.backend;
      const c = ctx;
      upstream.forward(req, res, { headers, responseHeaders, tap: shadow?.tap, body: shadow?.body }, (outcome) =>
        // 5. log
        log(c, req, res, startNs, outcome, isHttp2Request(req) ? req.bytesIn : bytesInOf(socket)),
      );
    } catch (err) {
      // A bug in a step must cost one request, never the process.
      rt.logger.error({ err, request_id: requestId }, 'request handler failed');
      if (!res.headersSent) localReply(res, ERRORS.INTERNAL, requestId, true);
      else res.destroy();
      log(ctx, req, res, startNs, { status: ERRORS.INTERNAL.status, bytesOut: 0, error: ERRORS.INTERNAL, cause: err as Error });
    }
  };
}

/** WebSocket upgrades: decide like any request, then hand both sockets to the upgrade proxy. */
export function createUpgradeHandler(rt: GatewayRuntime) {
  const route = createRouter(rt);
  return function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const rules = rt.rules.rules;
    const refused = rt.draining ? ERRORS.SHUTTING_DOWN : admit(req, rt.config.limits);
    if (!rules || refused) {
      socket.end(rawErrorResponse(refused ?? ERRORS.NOT_READY));
      return;
    }
    const requestId = requestIdOf(req);
    const { decision } = route(req, rules);
    const upstream = rt.backends.get(decision.backend)!;
    rt.upgrades.upgrade(req, socket, head, upstream.config.url, { [REQUEST_ID]: requestId, 'x-switchyard-route': decision.routeName }, (error) => {
      rt.metrics.requests.inc(decision.routeName, decision.backend, error ? String(error.status) : '101');
      if (error) rt.metrics.upstreamErrors.inc({ backend: decision.backend, reason: error.reason });
    });
  };
}
