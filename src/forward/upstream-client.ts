/**
 * The connections to one upstream host, whatever carries them: the gateway's own HTTP/1.1 client
 * (h1-pool.ts) for plain-HTTP requests whose body is absent or whole, which is nearly every
 * request (bodies up to `request_buffering`, 1 MiB by default, are read whole first); an undici
 * Pool, built on first use, for a body streamed as it arrives and for https:// hosts.
 *
 * Both speak HTTP/1.1 (issue 16: undici 8 would offer h2 to TLS backends; the forwarder's
 * hop-by-hop handling is HTTP/1.1's) and take the same handler. `connections` bounds each of the
 * two: a plain-HTTP host that gets both kinds of request can hold up to twice as many.
 */
import type { Readable } from 'node:stream';
import { type Dispatcher, Pool } from 'undici';
import type { UpstreamClientKind } from '../config/backend-config.js';
import { ERRORS, errorOf } from '../errors.js';
import { H1Pool } from './h1-pool.js';

export interface UpstreamClientOptions {
  /** undici: every request through undici (`backends.NAME.client`); default switchyard's own for http://. */
  client?: UpstreamClientKind;
  connections: number;
  connectTimeoutMs: number;
  /** 0: no limit (the shadow step times its copies itself). */
  responseTimeoutMs: number;
}

export interface UpstreamRequest {
  path: string;
  method: string;
  headers: Record<string, string | string[]>;
  body: Buffer | Readable | null;
}

/** How long a kept connection may stay idle, unless the upstream's Keep-Alive hint says less. */
const KEEP_ALIVE_MS = 4_000;
const KEEP_ALIVE_MAX_MS = 60_000;

/**
 * The symbol under which undici's Pool keeps its count of waiting requests (an own field of the
 * pool; `pool.stats.queued` reads the same number). `pool.stats` builds a PoolStats whose
 * constructor walks every client of the pool five times: per request, that was a few
 * microseconds of the forward step (issue 14). Undefined when an undici version keeps it
 * elsewhere: then `stats` is read.
 */
function queuedSymbolOf(pool: Pool): symbol | undefined {
  const sym = Object.getOwnPropertySymbols(pool).find((s) => s.description === 'queued');
  return sym !== undefined && typeof (pool as unknown as Record<symbol, unknown>)[sym] === 'number' ? sym : undefined;
}

export class UpstreamClient {
  private readonly h1: H1Pool | undefined;
  private undici: Pool | undefined;
  private queuedSym: symbol | undefined;
  /** After close() or destroy(): no undici pool is built any more. */
  private closed = false;

  constructor(
    private readonly url: URL,
    private readonly opts: UpstreamClientOptions,
  ) {
    if (url.protocol === 'http:' && opts.client !== 'undici') {
      this.h1 = new H1Pool(url, { ...opts, keepAliveMs: KEEP_ALIVE_MS, keepAliveMaxMs: KEEP_ALIVE_MAX_MS });
    }
  }

  /** Sends `req`; `handler` hears of it through undici's handler interface. May throw before onRequestStart. */
  dispatch(req: UpstreamRequest, handler: Dispatcher.DispatchHandler): void {
    const { body } = req;
    if (this.h1 && (body === null || Buffer.isBuffer(body))) this.h1.dispatch({ path: req.path, method: req.method, headers: req.headers, body }, handler);
    else this.streaming().dispatch(req, handler);
  }

  private streaming(): Pool {
    if (!this.undici) {
      // As the own pool does once closed (an undici pool closed would refuse too).
      if (this.closed) throw errorOf(ERRORS.UPSTREAM_RESET, 'the upstream pool is closed');
      const { connections, connectTimeoutMs, responseTimeoutMs } = this.opts;
      this.undici = new Pool(this.url.origin, {
        connections,
        connect: { timeout: connectTimeoutMs },
        headersTimeout: responseTimeoutMs,
        bodyTimeout: responseTimeoutMs,
        keepAliveTimeout: KEEP_ALIVE_MS,
        keepAliveMaxTimeout: KEEP_ALIVE_MAX_MS,
        allowH2: false,
      });
      this.queuedSym = queuedSymbolOf(this.undici);
    }
    return this.undici;
  }

  /** Requests waiting for a connection. */
  queued(): number {
    const u = this.undici;
    const streamed = u === undefined ? 0 : this.queuedSym === undefined ? u.stats.queued : ((u as unknown as Record<symbol, number>)[this.queuedSym] ?? 0);
    return (this.h1?.queued ?? 0) + streamed;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([this.h1?.close(), this.undici?.close()]);
  }

  async destroy(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([this.h1?.destroy(), this.undici?.destroy()]);
  }
}
