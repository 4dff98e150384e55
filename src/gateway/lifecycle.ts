/**
 * The life of a request in the gateway, as one ordered list (drawn in docs/lifecycle.md):
 *
 *   1. admit     refuse what will not be forwarded (limits, malformed targets)     → 4xx
 *   2. decide    match a route, pick the backend (override, sticky bucket, random)
 *   3. shadow    start the copy to the other backend, if the route samples this one
 *   4. forward   stream the request to the backend and its answer to the client   → 502/504
 *                (forward-step.ts: host retries, and the route's fallback, which may already
 *                take the request before step 3 when its backend is down)
 *   5. log       metrics and the access line (log-step.ts); always runs, also after errors
 *
 * WebSocket upgrades run 1 and 2, then the upgrade proxy carries both sockets until one closes,
 * and end in the same log step; so do requests Node's parser refused (gateway.ts).
 *
 * Each step is a plain function call below; everything built once (rule table, pools, metric
 * objects) lives in GatewayRuntime, and a request only allocates its small RequestContext.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { blameOf, ERRORS, type ErrorDef, errorBody, rawErrorResponse } from '../errors.js';
import type { ForwardOutcome } from '../forward/backend.js';
import { admit, toOriginForm } from '../http/admission.js';
import { bytesInOf } from '../http/bytes-in.js';
import { isTrusted } from '../http/client-address.js';
import { closeAfter, droppedBehindLast } from '../http/closing-connection.js';
import { REQUEST_ID, upstreamRequestHeaders } from '../http/headers.js';
import { isHttp2Request } from '../http/http2-compat.js';
import { childTraceparent, parseTraceContext, startTrace, TRACEPARENT, TRACESTATE } from '../http/trace-context.js';
import { type DecideOptions, decide } from '../router/decide.js';
import { type RequestFacts, requestFacts } from '../router/request-facts.js';
import type { GatewayRuntime, RequestContext } from './contracts.js';
import { createForwardStep } from './forward-step.js';
import type { LogStep, UpgradeExchange } from './log-step.js';

/** `close`: the connection ends after this reply (closing-connection.ts). */
function localReply(req: IncomingMessage, res: ServerResponse, e: ErrorDef, requestId: string, close: boolean): void {
  const body = errorBody(e, { request_id: requestId });
  const headers: Record<string, string | number> = {
    ...e.headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    [REQUEST_ID]: requestId,
  };
  if (close) closeAfter(req, res);
  res.writeHead(e.status, headers);
  res.end(body);
}

function remoteAddressOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? '';
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
function decideOptionsOf(rt: GatewayRuntime): DecideOptions {
  return { backends: rt.backendNames, overrideTokenDigest: rt.overrideTokenDigest };
}

function factsOf(req: IncomingMessage): RequestFacts {
  return requestFacts(req.method ?? 'GET', req.url ?? '/', req.headers, remoteAddressOf(req));
}

export function createRequestHandler(rt: GatewayRuntime, logStep: LogStep) {
  const options = decideOptionsOf(rt);
  const forwardStep = createForwardStep(rt);

  return function handleRequest(req: IncomingMessage, res: ServerResponse): void {
    // Pipelined behind a request whose answer ends the connection: never read, as in nginx.
    if (droppedBehindLast(req)) return;
    const startNs = process.hrtime.bigint();
    // The socket is detached from `res` once the response ends, so keep it for the byte count.
    const socket = req.socket;
    logStep.begin();
    const requestId = requestIdOf(req);
    let ctx: RequestContext | undefined;
    // Whatever happens below, the log step runs exactly once.
    let logged = false;
    const log = (outcome: ForwardOutcome) => {
      if (logged) return;
      logged = true;
      // HTTP/2 streams share their socket: the stream counts its own bytes (http2-compat.ts).
      logStep.request(req, res, requestId, startNs, ctx, outcome, isHttp2Request(req) ? req.bytesIn : bytesInOf(socket));
    };
    try {
      // 1. admit
      if (rt.draining) closeAfter(req, res);
      const refused = admit(req, rt.config.limits);
      const rules = rt.rules.rules;
      if (refused || !rules) {
        const e = refused ?? ERRORS.NOT_READY;
        // A refused request ends its connection (nginx's way); not being ready does not.
        localReply(req, res, e, requestId, blameOf(e) === 'client');
        log({ status: e.status, bytesOut: 0, error: e });
        return;
      }

      // 2. decide
      toOriginForm(req);
      const facts = factsOf(req);
      const decision = decide(rules, facts, options);
      const headers = upstreamRequestHeaders({
        headers: req.headers,
        remoteAddress: facts.remoteAddress,
        protocol: schemeOf(req),
        trustForwarded: isTrusted(rt.trustedProxies, facts.remoteAddress),
        requestId,
        route: decision.routeName,
      });
      // The serving backend's call is a span of the client's trace (or of one started here).
      const trace = parseTraceContext(req.headers[TRACEPARENT], req.headers[TRACESTATE]) ?? startTrace();
      headers[TRACEPARENT] = childTraceparent(trace);
      // `delete` of a property that is there turns the object into a slow dictionary: only when needed.
      if (trace.state === undefined && headers[TRACESTATE] !== undefined) delete headers[TRACESTATE];
      ctx = { req, res, startNs, requestId, rules, facts, decision, upstreamHeaders: headers, trace };

      forwardStep.redirect(ctx);

      // 3. shadow
      const shadow = rt.shadow?.begin(ctx);

      // 4. forward, then 5. log
      forwardStep.forward(ctx, shadow, log);
    } catch (err) {
      // A bug in a step must cost one request, never the process. It is the gateway's error:
      // counted as a 500, never against a backend.
      rt.logger.error({ err, request_id: requestId }, 'request handler failed');
      const sent = res.headersSent;
      if (!sent) localReply(req, res, ERRORS.INTERNAL, requestId, true);
      else res.destroy();
      log({ status: sent ? res.statusCode : ERRORS.INTERNAL.status, bytesOut: 0, error: ERRORS.INTERNAL, cause: err as Error });
    }
  };
}

/**
 * WebSocket upgrades: admit and decide like any request, then hand both sockets to the upgrade
 * proxy; the log step runs when the tunnel closes (or the handshake failed).
 */
export function createUpgradeHandler(rt: GatewayRuntime, logStep: LogStep) {
  const options = decideOptionsOf(rt);
  return function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (droppedBehindLast(req)) {
      socket.end();
      return;
    }
    const x: UpgradeExchange = {
      req,
      socket,
      requestId: requestIdOf(req),
      startNs: process.hrtime.bigint(),
      writtenBefore: (socket as Duplex & { bytesWritten?: number }).bytesWritten ?? 0,
    };
    try {
      const rules = rt.rules.rules;
      const refused = rt.draining ? ERRORS.SHUTTING_DOWN : admit(req, rt.config.limits);
      if (!rules || refused) {
        const e = refused ?? ERRORS.NOT_READY;
        socket.end(rawErrorResponse(e));
        logStep.upgrade(x, e.status, e);
        return;
      }
      const facts = factsOf(req);
      const decision = decide(rules, facts, options);
      x.facts = facts;
      x.decision = decision;
      const backend = rt.backends.get(decision.backend)!;
      rt.upgrades.upgrade(req, socket, head, backend.target(), { [REQUEST_ID]: x.requestId, 'x-switchyard-route': decision.routeName }, (status, error) =>
        logStep.upgrade(x, status, error),
      );
    } catch (err) {
      rt.logger.error({ err, request_id: x.requestId }, 'upgrade handler failed');
      if (socket.writable) socket.end(rawErrorResponse(ERRORS.INTERNAL));
      else socket.destroy();
      logStep.upgrade(x, ERRORS.INTERNAL.status, ERRORS.INTERNAL);
    }
  };
}
