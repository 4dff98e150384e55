/**
 * One backend as the gateway sees it: a keep-alive undici Pool, and `forward`, which streams a
 * request to it and its response back to the client. Nothing is buffered on this path: request
 * body chunks go to undici as they arrive, response chunks go to the client as they arrive, and
 * backpressure in either direction pauses the other side.
 *
 * undici was chosen over http-proxy for plain HTTP by measurement (scripts/bench-forwarders.ts);
 * http-proxy still carries WebSocket upgrades (see websocket.ts).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import type { BackendConfig } from '../config/gateway-config.js';
import { ERRORS, classifyUpstreamError, errorBody, type ErrorDef } from '../errors.js';
import { hasRequestBody } from '../http/body-guard.js';
import { withoutHopByHop } from '../http/headers.js';
import type { Backend, ForwardOptions, ForwardOutcome, ResponseTap } from './backend.js';

export class HttpBackend implements Backend {
  readonly name: string;
  readonly pool: Pool;

  constructor(readonly config: BackendConfig) {
    this.name = config.name;
    this.pool = new Pool(config.url.origin, {
      connections: config.connections,
      connect: { timeout: config.connectTimeoutMs },
      headersTimeout: config.responseTimeoutMs,
      bodyTimeout: config.responseTimeoutMs,
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      // Upstreams speak HTTP/1.1 (issue 16). undici 8 turned HTTP/2 on by default for TLS
      // backends that offer h2 in ALPN; the forwarder's hop-by-hop handling is HTTP/1.1's.
      allowH2: false,
    });
  }

  /**
   * Streams `req` to this backend and the answer to `res`; calls `done` once, when `res` is
   * finished or torn down. (A callback, not a Promise: this is the per-request hot path.)
   */
  forward(req: IncomingMessage, res: ServerResponse, opts: ForwardOptions, done: (outcome: ForwardOutcome) => void): void {
    const handler = new ForwardHandler(this.name, req, res, opts, done);
    // A bounded wait for a connection: past `queue` waiting requests the backend is busy, and
    // the client hears so at once instead of holding a socket (issue 11, slow clients).
    if (this.pool.stats.queued >= this.config.queue) {
      handler.onResponseError(undefined, Object.assign(new Error(ERRORS.UPSTREAM_BUSY.message), { code: ERRORS.UPSTREAM_BUSY.code }));
      return;
    }
    try {
      this.pool.dispatch(
        {
          path: req.url ?? '/',
          method: req.method ?? 'GET',
          headers: opts.headers,
          body: opts.body ?? (hasRequestBody(req) ? req : null),
        },
        handler,
      );
    } catch (err) {
      handler.onResponseError(undefined, err as Error);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}

class ForwardHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private bytesOut = 0;
  private status = 0;
  private settled = false;
  private tapSettled = false;
  private sendTimer: NodeJS.Timeout | undefined;
  private readonly onClientClose: () => void;

  constructor(
    private readonly backend: string,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly opts: ForwardOptions,
    private readonly resolve: (o: ForwardOutcome) => void,
  ) {
    // A client that goes away cancels its upstream request.
    this.onClientClose = () => {
      if (!res.writableFinished) this.abort();
    };
    res.once('close', this.onClientClose);
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

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void {
    // Informational answers (103 Early Hints, …) are not passed on: only the final one is.
    if (statusCode < 200) return;
    this.status = statusCode;
    const out: OutgoingHttpHeaders = withoutHopByHop(headers);
    if (this.opts.responseHeaders) Object.assign(out, this.opts.responseHeaders);
    this.opts.beforeResponse?.(statusCode, out, headers);
    if (!this.res.destroyed) this.res.writeHead(statusCode, statusMessage || undefined, out);
    this.opts.tap?.onStart(statusCode, headers);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
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
    this.tapSettled = true;
    this.opts.tap?.onEnd();
    this.res.end();
    this.finish();
  }

  onResponseError(_c: Dispatcher.DispatchController | undefined, err: Error): void {
    const e = classifyUpstreamError(err);
    this.tapSettled = true;
    this.opts.tap?.onError(err);
    if (e === ERRORS.CLIENT_ABORTED || this.res.destroyed) {
      this.res.destroy();
      this.finish(ERRORS.CLIENT_ABORTED, err);
      return;
    }
    if (!this.res.headersSent) {
      // Nothing reached the client yet: answer with a small JSON error naming backend and reason.
      const body = errorBody(e, { backend: this.backend });
      this.status = e.status;
      const out: OutgoingHttpHeaders = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...this.opts.responseHeaders };
      this.opts.beforeResponse?.(e.status, out, undefined);
      this.res.writeHead(e.status, out);
      this.res.end(body);
    } else {
      // Mid-response: the only honest signal left is to cut the client connection.
      this.res.destroy(err);
    }
    this.finish(e, err);
  }

  private sendTimedOut(): void {
    const err = Object.assign(new Error('the client did not read the response in time'), { code: ERRORS.CLIENT_TIMEOUT.code });
    // Settled first, so that the abort's own error (client gone) does not name the exchange.
    this.finish(ERRORS.CLIENT_TIMEOUT, err);
    this.res.destroy();
    if (this.controller && !this.controller.aborted) this.controller.abort(err);
  }

  private finish(error?: ErrorDef, cause?: Error): void {
    clearTimeout(this.sendTimer);
    if (this.settled) return;
    this.settled = true;
    // Whatever ended the exchange, an observer always hears the end of it.
    if (!this.tapSettled) {
      this.tapSettled = true;
      this.opts.tap?.onError(cause ?? new Error(error?.message ?? 'forward ended'));
    }
    this.res.removeListener('close', this.onClientClose);
    // Drain any unread request body so the client connection stays usable.
    if (error && !this.req.complete && !this.req.destroyed) this.req.resume();
    this.resolve({ status: this.status, bytesOut: this.bytesOut, error, cause });
  }
}
