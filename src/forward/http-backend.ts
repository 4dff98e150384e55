/**
 * One HTTP backend as the gateway sees it: its hosts (host-set.ts: a keep-alive connection pool
 * per host, upstream-client.ts; health, ejection, balancing), and `forward`, which streams a
 * request to one host and its response back to the client. Nothing is buffered on this path
 * beyond `request_buffering`: a streamed request body goes upstream as it arrives, response
 * chunks go to the client as they arrive, and backpressure in either direction pauses the other
 * side.
 *
 * When an attempt fails before any response byte was written, an idempotent request whose body
 * can be sent again is retried on another host (`retries`, within the route's retry budget);
 * after that the caller may take the failure over (`onFailureBeforeResponse`: the route's
 * fallback), else the client gets a small JSON 502/504.
 *
 * undici was chosen over http-proxy for plain HTTP by measurement (scripts/bench-forwarders.ts),
 * and the gateway's own HTTP/1.1 client (h1-pool.ts) over undici for most requests (issue 14);
 * both take the same dispatch handler, this one. http-proxy still carries WebSocket upgrades
 * (see websocket.ts).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { BackendConfig } from '../config/gateway-config.js';
import { classifyUpstreamError, ERRORS, type ErrorDef, errorBody, errorOf } from '../errors.js';
import { hasRequestBody } from '../http/body-guard.js';
import { withoutHopByHop } from '../http/headers.js';
import { type Backend, type FailureReason, type ForwardOptions, type ForwardOutcome, failureReasonOf } from './backend.js';
import { HostSet, type HostSetDeps } from './host-set.js';

/** RFC 9110 §9.2.2: the methods a retry on another host may send again. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Statuses that count as a failed host for outlier ejection (the gateway failures, not the application's). */
function isGatewayFailure(status: number): boolean {
  return status === 502 || status === 503 || status === 504;
}

export class HttpBackend implements Backend {
  readonly name: string;
  readonly hosts: HostSet;

  constructor(
    readonly config: BackendConfig,
    private readonly deps: HostSetDeps = {},
  ) {
    this.name = config.name;
    this.hosts = new HostSet(config, deps);
  }

  get up(): boolean {
    return this.hosts.up;
  }

  status() {
    return { state: this.hosts.state, hosts: this.hosts.status() };
  }

  target(): URL {
    return this.hosts.hosts[this.hosts.pick()]!.url;
  }

  /**
   * Streams `req` to a host of this backend and the answer to `res`; calls `done` once, when
   * `res` is finished or torn down. (A callback, not a Promise: this is the per-request hot path.)
   */
  forward(req: IncomingMessage, res: ServerResponse, opts: ForwardOptions, done: (outcome: ForwardOutcome) => void): void {
    new ForwardHandler(this, req, res, opts, done).send(this.hosts.pick());
  }

  /** Counts a retry (a per-attempt event, so counted here rather than in the log step). */
  retried(reason: string): void {
    this.deps.metrics?.upstreamRetries.inc({ backend: this.name, reason });
  }

  close(): Promise<void> {
    return this.hosts.close();
  }

  destroy(): Promise<void> {
    return this.hosts.destroy();
  }
}

class ForwardHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private bytesOut = 0;
  private status = 0;
  private settled = false;
  private tapSettled = false;
  /** The host of the current attempt; -1 once it ended. */
  private host = -1;
  /** Hosts tried so far, a bit each. */
  private tried = 0;
  private retries = 0;
  private readonly body: Readable | Buffer | null;
  private sendTimer: NodeJS.Timeout | undefined;
  private readonly onClientClose: () => void;

  constructor(
    private readonly backend: HttpBackend,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly opts: ForwardOptions,
    private readonly resolve: (o: ForwardOutcome) => void,
  ) {
    this.body = opts.body ?? (hasRequestBody(req) ? req : null);
    // A client that goes away cancels its upstream request.
    this.onClientClose = () => {
      if (!res.writableFinished) this.abort();
    };
    res.once('close', this.onClientClose);
  }

  /** Dispatches an attempt to host `i`; the same handler serves every attempt, one at a time. */
  send(i: number): void {
    const host = this.backend.hosts.hosts[i]!;
    this.host = i;
    this.tried |= 1 << i;
    this.controller = undefined;
    host.active++;
    // A bounded wait for a connection: past `queue` waiting requests the host is busy, and the
    // client hears so at once instead of holding a socket (issue 11, slow clients). Only a
    // request that must wait needs a place in the queue (`queue: 0`: never wait, never refused
    // while a connection is free).
    if (host.active > this.backend.config.connections && host.queued() >= this.backend.config.queue) {
      this.onResponseError(undefined, errorOf(ERRORS.UPSTREAM_BUSY));
      return;
    }
    try {
      host.client.dispatch({ path: this.req.url ?? '/', method: this.req.method ?? 'GET', headers: this.opts.headers, body: this.body }, this);
    } catch (err) {
      this.onResponseError(undefined, err as Error);
    }
  }

  private endAttempt(): void {
    if (this.host < 0) return;
    this.backend.hosts.hosts[this.host]!.active--;
    this.host = -1;
  }

  private abort(): void {
    const err = Object.assign(new Error('client went away'), { code: 'UND_ERR_ABORTED' });
    if (this.controller && !this.controller.aborted) this.controller.abort(err);
    else if (!this.controller) this.finish(ERRORS.CLIENT_ABORTED, err);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.res.destroyed) this.abort();
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    // Informational answers (103 Early Hints, …) are not passed on: only the final one is.
    if (statusCode < 200 || this.settled) return;
    if (this.host >= 0) this.backend.hosts.result(this.host, !isGatewayFailure(statusCode));
    this.status = statusCode;
    if (statusCode >= 500 && this.opts.onFailureBeforeResponse?.('5xx')) {
      this.handOff('5xx');
      controller.abort(Object.assign(new Error('answered elsewhere'), { code: 'UND_ERR_ABORTED' }));
      return;
    }
    const out: OutgoingHttpHeaders = withoutHopByHop(headers);
    if (this.opts.responseHeaders) Object.assign(out, this.opts.responseHeaders);
    this.opts.beforeResponse?.(statusCode, out, headers);
    if (!this.res.destroyed) this.res.writeHead(statusCode, statusMessage || undefined, out);
    this.opts.tap?.onStart(statusCode, headers);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    this.bytesOut += chunk.length;
    this.opts.tap?.onData(chunk);
    if (this.res.destroyed) return;
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', () => {
        clearTimeout(this.sendTimer);
        controller.resume();
      });
      // A client that stops reading must not keep the upstream connection (nginx send_timeout).
      if (this.opts.sendTimeoutMs) {
        clearTimeout(this.sendTimer);
        this.sendTimer = setTimeout(() => this.sendTimedOut(), this.opts.sendTimeoutMs);
        this.sendTimer.unref();
      }
    }
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.tapSettled = true;
    this.opts.tap?.onEnd();
    this.res.end();
    this.finish();
  }

  onResponseError(_c: Dispatcher.DispatchController | undefined, err: Error): void {
    if (this.settled) return;
    const e = classifyUpstreamError(err);
    const aborted = e === ERRORS.CLIENT_ABORTED || this.res.destroyed;
    // A full local queue says nothing of the host's health.
    if (this.host >= 0 && !aborted && e !== ERRORS.UPSTREAM_BUSY) this.backend.hosts.result(this.host, false);
    this.endAttempt();
    if (aborted) {
      this.settleTap(err);
      this.res.destroy();
      this.finish(ERRORS.CLIENT_ABORTED, err);
      return;
    }
    if (!this.res.headersSent) {
      if (this.retry(e)) return;
      const reason = failureReasonOf(e);
      if (this.opts.onFailureBeforeResponse?.(reason)) return this.handOff(reason, e, err);
      this.settleTap(err);
      // Nothing reached the client yet: answer with a small JSON error naming backend and reason.
      const body = errorBody(e, { backend: this.backend.name });
      this.status = e.status;
      const out: OutgoingHttpHeaders = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...this.opts.responseHeaders };
      this.opts.beforeResponse?.(e.status, out, undefined);
      this.res.writeHead(e.status, out);
      this.res.end(body);
    } else {
      this.settleTap(err);
      // Mid-response: the only honest signal left is to cut the client connection.
      this.res.destroy(err);
    }
    this.finish(e, err);
  }

  /** Sends the request again to another host when the failure, the method and the budget allow. */
  private retry(e: ErrorDef): boolean {
    const policy = this.backend.config.retries;
    if (this.retries >= policy.attempts || !policy.on.has(e.reason as never)) return false;
    if (!IDEMPOTENT.has(this.req.method ?? 'GET') || !(this.body === null || Buffer.isBuffer(this.body))) return false;
    const next = this.backend.hosts.pick(this.tried);
    if (next < 0 || (this.opts.budget && !this.opts.budget.tryAcquire())) return false;
    this.retries++;
    this.backend.retried(e.reason);
    this.send(next);
    return true;
  }

  private sendTimedOut(): void {
    const err = errorOf(ERRORS.CLIENT_TIMEOUT, 'the client did not read the response in time');
    // Settled first, so that the abort's own error (client gone) does not name the exchange.
    this.finish(ERRORS.CLIENT_TIMEOUT, err);
    this.res.destroy();
    if (this.controller && !this.controller.aborted) this.controller.abort(err);
  }

  /** The caller answers instead (a fallback): nothing was written to the client. */
  private handOff(reason: FailureReason, error?: ErrorDef, cause?: Error): void {
    this.settleTap(cause ?? new Error(`backend answered ${this.status}; sent to the fallback`));
    this.finish(error, cause, reason);
  }

  private settleTap(err: Error): void {
    if (this.tapSettled) return;
    this.tapSettled = true;
    this.opts.tap?.onError(err);
  }

  private finish(error?: ErrorDef, cause?: Error, handedOff?: FailureReason): void {
    clearTimeout(this.sendTimer);
    if (this.settled) return;
    this.settled = true;
    this.endAttempt();
    // Whatever ended the exchange, an observer always hears the end of it. The Error is built
    // only for a tap not settled yet: an Error captures a stack trace, and building one per
    // request was 5% of the gateway's CPU under load (issue 14, --cpu-prof).
    if (!this.tapSettled) this.settleTap(cause ?? new Error(error?.message ?? 'forward ended'));
    this.res.removeListener('close', this.onClientClose);
    // Drain any unread request body so the client connection stays usable.
    if (error && !handedOff && !this.req.complete && !this.req.destroyed) this.req.resume();
    this.resolve({ status: this.status, bytesOut: this.bytesOut, error, cause, handedOff });
  }
}
