/**
 * The gateway's own HTTP/1.1 client: a keep-alive connection pool to one plain-HTTP origin,
 * driven through undici's dispatch-handler interface (onRequestStart … onResponseEnd /
 * onResponseError, with a controller that pauses, resumes and aborts), so that the forwarder and
 * the shadow copies use it exactly as they use an undici Pool.
 *
 * It sends requests whose body is absent or already whole (a Buffer: request buffering, shadow
 * copies, retries); a streamed body, TLS and anything fancier stay on undici (upstream-client.ts).
 * One request per connection at a time (no pipelining); the response is read with the strict
 * parser of http/h1-response.ts and streamed to the handler as it arrives.
 *
 * Why not undici for everything: on one core, node:http's server plus undici's client cost about
 * twice what the same relay costs on bare sockets (scripts/bench `net-floor`), and the client
 * side is half of that gap: llhttp in WebAssembly with a callback per header, a Request object,
 * header validation and the generic dispatcher chain. This client does what the gateway needs
 * and nothing else (issue 14; the figures are in the README's benchmark).
 *
 * Timeouts: connecting (connectTimeoutMs); the whole response head, then each wait for a body
 * byte (responseTimeoutMs, not counted while the handler has paused the response); a kept
 * connection is not used after keepAliveMs idle, or sooner when the upstream's
 * `Keep-Alive: timeout=N` says so, and is closed within a second after. Failures reach the
 * handler's onResponseError: with a catalogue code (errors.ts) for what the client itself
 * detects, else as node:net raised them (ECONNREFUSED, ECONNRESET, …), which
 * classifyUpstreamError maps too. Idle kept connections do not hold the process open.
 */
import { channel } from 'node:diagnostics_channel';
import { connect, type Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { ERRORS, errorOf } from '../errors.js';
import { bodyFraming, ChunkedDecoder, keepAliveHintMs, keepsAlive, MAX_HEAD_BYTES, parseResponseHead, ResponseError } from '../http/h1-response.js';
import { headerKey, INVALID_VALUE, TOKEN } from '../util/http-syntax.js';

export interface H1PoolOptions {
  /** Upper bound of open connections; requests past it wait in order. */
  connections: number;
  connectTimeoutMs: number;
  /** 0: no limit. */
  responseTimeoutMs: number;
  /** How long a kept connection may stay idle without a hint from the upstream. */
  keepAliveMs: number;
  /** Upper bound of an upstream's Keep-Alive hint. */
  keepAliveMaxMs: number;
}

export interface H1Request {
  path: string;
  method: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer | null;
}

const INVALID_TARGET = /[^\x21-\x7e\x80-\xff]/;
const HEAD_END = Buffer.from('\r\n\r\n');
/** Headers the client writes itself, from the body and its own connection handling. */
const OWN = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect']);
/** Methods whose empty body is still announced (as undici and node:http do). */
const EXPECTS_BODY = new Set(['POST', 'PUT', 'PATCH']);
/**
 * Published as each request is handed to its connection (which may still be connecting), as
 * undici publishes `undici:client:sendHeaders`: `{ request: { method, path, origin }, socket }`.
 * For tools and tests that watch an exchange.
 */
const sendHeaders = channel('switchyard:upstream:sendHeaders');
/** How often kept connections past their idle time are closed (a connection is never used past it). */
const SWEEP_MS = 1000;

/** A request that cannot be written as it is (a header a module set, say): 502, as undici's InvalidArgumentError. */
function invalidRequest(message: string): Error {
  return errorOf(ERRORS.UPSTREAM_FAILED, message);
}

/** The request head, validated as undici validates it: a bad name or value never reaches the wire. */
export function requestHead(req: H1Request, host: string): string {
  const { method, path } = req;
  if (!TOKEN.test(method)) throw invalidRequest('invalid request method');
  if (INVALID_TARGET.test(path)) throw invalidRequest('invalid request target');
  // As undici: origin-form or absolute-form only (no `OPTIONS *`, no authority-form CONNECT).
  if (path[0] !== '/' && !path.startsWith('http://') && !path.startsWith('https://'))
    throw invalidRequest('path must be an absolute URL or start with a slash');
  let head = '';
  let hasHost = false;
  for (const name in req.headers) {
    const value = req.headers[name];
    if (value === undefined) continue;
    // Node's own names are lower-case already; a module's may not be, and a `Content-Length` of
    // its own must not go out beside ours.
    const key = headerKey(name);
    if (key === undefined) throw invalidRequest(`invalid header name ${JSON.stringify(name)}`);
    if (OWN.has(key)) continue;
    if (key === 'host') hasHost = true;
    if (Array.isArray(value)) {
      for (const v of value) {
        const text = String(v);
        if (INVALID_VALUE.test(text)) throw invalidRequest(`invalid value of header ${name}`);
        head += `${name}: ${text}\r\n`;
      }
    } else {
      // A number from a module is written as undici writes it.
      const text = typeof value === 'string' ? value : String(value);
      if (INVALID_VALUE.test(text)) throw invalidRequest(`invalid value of header ${name}`);
      head += `${name}: ${text}\r\n`;
    }
  }
  if (req.body !== null) head += `content-length: ${req.body.length}\r\n`;
  else if (EXPECTS_BODY.has(method)) head += 'content-length: 0\r\n';
  // Host first when the client writes it (RFC 9110 §7.2).
  return `${method} ${path} HTTP/1.1\r\n${hasHost ? '' : `host: ${host}\r\n`}${head}\r\n`;
}

/** One request and its response: the controller its handler holds. */
class Exchange implements Dispatcher.DispatchController {
  conn: Connection | undefined;
  private state: 'waiting' | 'running' | 'done' = 'waiting';
  private _paused = false;
  private _reason: Error | null = null;

  constructor(
    readonly pool: H1Pool,
    readonly handler: Dispatcher.DispatchHandler,
    readonly method: string,
    readonly path: string,
    readonly head: string,
    readonly body: Buffer | null,
  ) {}

  get aborted(): boolean {
    return this._reason !== null;
  }

  get paused(): boolean {
    return this._paused;
  }

  get reason(): Error | null {
    return this._reason;
  }

  run(conn: Connection): void {
    this.state = 'running';
    this.conn = conn;
  }

  abort(reason: Error): void {
    if (this.state === 'done') return;
    this._reason = reason;
    const conn = this.conn;
    if (conn) conn.cut();
    else this.pool.unqueue(this);
    this.fail(reason);
  }

  pause(): void {
    this._paused = true;
    this.conn?.pause();
  }

  resume(): void {
    this._paused = false;
    this.conn?.resume();
  }

  /** Ends the exchange with `err`, once. */
  fail(err: Error): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.conn = undefined;
    this.handler.onResponseError?.(this, err);
  }

  /** Ends the exchange with its response whole, once. */
  end(): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.conn = undefined;
    this.handler.onResponseEnd?.(this, {});
  }
}

/** One connection to the origin and the exchange it carries. */
class Connection {
  readonly socket: Socket;
  exchange: Exchange | undefined;
  private connected = false;
  /** Bytes of a response head not complete yet. */
  private headBuf: Buffer | undefined;
  private headDone = false;
  private framing: 'none' | 'length' | 'chunked' | 'close' = 'none';
  private remaining = 0;
  private decoder: ChunkedDecoder | undefined;
  /** May carry another exchange after this one. */
  private reusable = false;
  private idleMs = 0;
  /** While kept: when it must no longer be used (performance.now()). */
  idleUntil = 0;
  /** When the current request was written (performance.now()): the response head is due within the response timeout. */
  private sentAt = 0;
  private error: Error | undefined;
  private readonly chunks: Buffer[] = [];
  /** The exchange's handler paused the response (its client is slow to take it). */
  private paused = false;

  constructor(
    private readonly pool: H1Pool,
    host: string,
    port: number,
  ) {
    const s = connect({ host, port, noDelay: true });
    this.socket = s;
    // One socket timeout for the connection's life, not one per request (each setTimeout builds a
    // timer): connecting, then the response timeout, which also closes a connection idle that long.
    s.setTimeout(pool.opts.connectTimeoutMs);
    s.on('connect', () => {
      this.connected = true;
      s.setTimeout(pool.opts.responseTimeoutMs);
    });
    s.on('data', (d: Buffer) => this.onData(d));
    s.on('timeout', () => this.onTimeout());
    s.on('error', (err) => {
      this.error ??= err;
    });
    // Also when idle: the upstream closed a kept connection.
    s.on('end', () => this.pool.forget(this));
    s.on('close', () => this.onClose());
  }

  start(ex: Exchange): void {
    this.exchange = ex;
    this.socket.ref();
    this.headDone = false;
    this.reusable = false;
    ex.run(this);
    this.sentAt = performance.now();
    const s = this.socket;
    if (sendHeaders.hasSubscribers) sendHeaders.publish({ request: { method: ex.method, path: ex.path, origin: this.pool.origin }, socket: s });
    if (ex.paused) this.pause();
    if (ex.body && ex.body.length > 0) {
      s.cork();
      s.write(ex.head, 'latin1');
      s.write(ex.body);
      s.uncork();
    } else s.write(ex.head, 'latin1');
  }

  /**
   * Stops reading from the upstream, from the next packet on (the rest of the packet being read is
   * still delivered, as a stream's push past its high-water mark).
   */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
    // A handler that paused is waiting on its own client: that is not the upstream's delay.
    this.socket.setTimeout(0);
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket.resume();
    this.socket.setTimeout(this.pool.opts.responseTimeoutMs);
  }

  /** Closes the connection; its exchange, if any, fails with `err`. */
  destroy(err: Error): void {
    this.error ??= err;
    this.socket.destroy();
  }

  /** Tears the connection down under its exchange (an abort): nothing more is heard from it. */
  cut(): void {
    this.exchange = undefined;
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    const ex = this.exchange;
    if (!ex) {
      // Bytes nobody asked for: the connection is out of step.
      this.socket.destroy();
      return;
    }
    try {
      this.read(ex, d);
    } catch (err) {
      if (this.exchange === ex) {
        // An invalid response, or a handler that threw while hearing it (as undici does: the
        // exchange ends with the error).
        this.error = err as Error;
        this.cut();
        ex.fail(err as Error);
      } else {
        // A handler that threw on hearing the end: the exchange is over, the connection moved on;
        // a bug of the gateway's, said loudly without taking the process down.
        process.emitWarning(err as Error);
      }
    }
  }

  private read(ex: Exchange, d: Buffer): void {
    let buf = d;
    while (!this.headDone) {
      const prev = this.headBuf;
      buf = prev ? Buffer.concat([prev, buf]) : buf;
      const end = buf.indexOf(HEAD_END, prev ? Math.max(0, prev.length - 3) : 0);
      if (end < 0) {
        if (buf.length > MAX_HEAD_BYTES) throw new ResponseError('the upstream sent a response head over 16 KiB');
        // The socket's timeout sees silence; this sees a head sent a few bytes at a time.
        const limit = this.pool.opts.responseTimeoutMs;
        if (limit > 0 && performance.now() - this.sentAt > limit)
          throw errorOf(ERRORS.UPSTREAM_RESPONSE_TIMEOUT, 'the upstream did not send its response head in time');
        if (buf.indexOf('\n\n') >= 0 || buf.indexOf('\n\r\n') >= 0) throw new ResponseError('the upstream sent a line without CR');
        this.headBuf = buf;
        return;
      }
      if (end > MAX_HEAD_BYTES) throw new ResponseError('the upstream sent a response head over 16 KiB');
      this.headBuf = undefined;
      // Late as a whole, even when no wait on the socket was as long as the limit (a slow
      // upload, a head sent in pieces).
      const limit = this.pool.opts.responseTimeoutMs;
      if (limit > 0 && performance.now() - this.sentAt > limit)
        throw errorOf(ERRORS.UPSTREAM_RESPONSE_TIMEOUT, 'the upstream did not send its response head in time');
      const head = parseResponseHead(buf.toString('latin1', 0, end));
      buf = buf.subarray(end + 4);
      if (head.status < 200) {
        // 100 Continue, 103 Early Hints: not passed on. 101: the gateway never asks to upgrade here.
        if (head.status === 101) throw new ResponseError('the upstream switched protocols unasked');
        // A stream of 1xx answers keeps the socket busy but is no final answer.
        const limit = this.pool.opts.responseTimeoutMs;
        if (limit > 0 && performance.now() - this.sentAt > limit)
          throw errorOf(ERRORS.UPSTREAM_RESPONSE_TIMEOUT, 'the upstream did not send its final response head in time');
        if (buf.length === 0) return;
        continue;
      }
      const framing = bodyFraming(ex.method, head);
      this.framing = framing.kind;
      this.headDone = true;
      if (framing.kind === 'length') this.remaining = framing.length;
      else if (framing.kind === 'chunked') this.decoder = new ChunkedDecoder();
      const hint = keepAliveHintMs(head);
      this.idleMs = hint === undefined ? this.pool.opts.keepAliveMs : Math.min(hint - 1000, this.pool.opts.keepAliveMaxMs);
      this.reusable = framing.kind !== 'close' && this.idleMs > 0 && keepsAlive(head);
      ex.handler.onResponseStart?.(ex, head.status, head.headers, head.statusText);
      if (this.exchange !== ex) return;
    }
    this.body(ex, buf);
  }

  private body(ex: Exchange, buf: Buffer): void {
    switch (this.framing) {
      case 'none':
        return this.complete(ex, buf.length);
      case 'close':
        if (buf.length) ex.handler.onResponseData?.(ex, buf);
        return;
      case 'length': {
        if (buf.length === 0 && this.remaining > 0) return;
        const take = Math.min(this.remaining, buf.length);
        this.remaining -= take;
        if (take > 0) ex.handler.onResponseData?.(ex, take === buf.length ? buf : buf.subarray(0, take));
        if (this.remaining === 0 && this.exchange === ex) this.complete(ex, buf.length - take);
        return;
      }
      case 'chunked': {
        const chunks = this.chunks;
        const end = this.decoder!.push(buf, chunks);
        for (let i = 0; i < chunks.length && this.exchange === ex; i++) ex.handler.onResponseData?.(ex, chunks[i]!);
        chunks.length = 0;
        if (end >= 0 && this.exchange === ex) this.complete(ex, buf.length - end);
      }
    }
  }

  /** The response is whole; `extra` bytes followed it, which no request asked for. */
  private complete(ex: Exchange, extra: number): void {
    this.exchange = undefined;
    this.decoder = undefined;
    // Not reused when the upstream answered before taking the whole request: what it did not
    // read would be read as the next request.
    const keep = this.reusable && extra === 0 && this.socket.writableLength === 0 && this.pool.wantsConnections();
    // A pause is the exchange's: the next one starts reading.
    this.resume();
    try {
      ex.end();
    } finally {
      if (keep) {
        this.idleUntil = performance.now() + this.idleMs;
        // A kept connection does not hold the process open (as undici's); start() refs it again.
        this.socket.unref();
        this.pool.release(this);
      } else this.socket.destroy();
    }
  }

  private onTimeout(): void {
    const ex = this.exchange;
    if (ex) {
      this.error = !this.connected
        ? errorOf(ERRORS.UPSTREAM_CONNECT_TIMEOUT, 'connecting to the upstream timed out')
        : errorOf(ERRORS.UPSTREAM_RESPONSE_TIMEOUT, this.headDone ? 'the upstream stopped sending the response' : 'the upstream did not answer in time');
    }
    this.socket.destroy();
  }

  private onClose(): void {
    const ex = this.exchange;
    this.exchange = undefined;
    this.pool.closedConnection(this);
    if (!ex) return;
    try {
      if (!this.error && this.headDone && this.framing === 'close') ex.end();
      else ex.fail(this.error ?? errorOf(ERRORS.UPSTREAM_RESET, 'the upstream closed the connection'));
    } catch (err) {
      process.emitWarning(err as Error);
    }
  }
}

export class H1Pool {
  closed = false;
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly waiting: Exchange[] = [];
  private readonly host: string;
  private readonly hostname: string;
  private readonly port: number;
  /** Those waiting in close() for the last connection to close. */
  private readonly onEmpty: (() => void)[] = [];
  private sweeper: NodeJS.Timeout | undefined;

  readonly origin: string;

  constructor(
    origin: URL,
    readonly opts: H1PoolOptions,
  ) {
    this.origin = origin.origin;
    if (origin.protocol !== 'http:') throw new Error(`H1Pool speaks plain HTTP only, not ${origin.protocol}`);
    this.host = origin.host;
    this.hostname = origin.hostname.startsWith('[') ? origin.hostname.slice(1, -1) : origin.hostname;
    this.port = Number(origin.port || 80);
  }

  /** Requests waiting for a connection. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Sends `req`; `handler` hears of it as an undici handler would. Throws (before onRequestStart)
   * when the request cannot be written: an invalid header, or the pool is closed.
   */
  dispatch(req: H1Request, handler: Dispatcher.DispatchHandler): void {
    if (this.closed) throw errorOf(ERRORS.UPSTREAM_RESET, 'the upstream pool is closed');
    const ex = new Exchange(this, handler, req.method, req.path, requestHead(req, this.host), req.body);
    handler.onRequestStart?.(ex, {});
    if (ex.aborted) return;
    const conn = this.kept();
    if (conn) conn.start(ex);
    else if (this.all.size < this.opts.connections) this.open().start(ex);
    else this.waiting.push(ex);
  }

  private open(): Connection {
    const conn = new Connection(this, this.hostname, this.port);
    this.all.add(conn);
    return conn;
  }

  /** The most recently used kept connection still within its idle time (the warmest), if any. */
  private kept(): Connection | undefined {
    let conn = this.idle.pop();
    if (conn === undefined) return undefined;
    const now = performance.now();
    while (conn && (conn.idleUntil <= now || conn.socket.destroyed)) {
      conn.socket.destroy();
      conn = this.idle.pop();
    }
    return conn;
  }

  /** Whether a connection that is free again is worth keeping: open, or closing with requests still waiting. */
  wantsConnections(): boolean {
    return !this.closed || this.waiting.length > 0;
  }

  /** A connection is free again: the next waiting request takes it, or it waits for one. */
  release(conn: Connection): void {
    const next = this.waiting.shift();
    if (next) conn.start(next);
    else if (this.closed) conn.socket.destroy();
    else {
      this.idle.push(conn);
      this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
    }
  }

  /** Closes kept connections past their idle time (each has its own, from the upstream's hint). */
  private sweep(): void {
    const now = performance.now();
    let kept = 0;
    for (const conn of this.idle) {
      if (conn.idleUntil <= now) conn.socket.destroy();
      else this.idle[kept++] = conn;
    }
    this.idle.length = kept;
  }

  /** The upstream ended a connection: it is no longer offered. */
  forget(conn: Connection): void {
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
  }

  closedConnection(conn: Connection): void {
    this.forget(conn);
    this.all.delete(conn);
    // A request that waited for a connection gets a new one in place of the closed one (also
    // while closing: close() lets every request taken finish).
    if (this.waiting.length > 0) this.open().start(this.waiting.shift()!);
    if (this.all.size === 0) for (const resolve of this.onEmpty.splice(0)) resolve();
  }

  unqueue(ex: Exchange): void {
    const i = this.waiting.indexOf(ex);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  /** Stops taking requests, lets running and waiting ones finish, closes idle connections. */
  close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const conn of this.idle.splice(0)) conn.socket.destroy();
    if (this.all.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.onEmpty.push(resolve);
    });
  }

  /** Closes every connection now; running and waiting requests fail. */
  destroy(): Promise<void> {
    this.closed = true;
    // The gateway closed them (a stop), not the upstream: as undici's ClientDestroyedError.
    const err = errorOf(ERRORS.UPSTREAM_FAILED, 'the gateway closed the connection to the upstream');
    for (const ex of this.waiting.splice(0)) ex.fail(err);
    for (const conn of this.all) conn.destroy(err);
    return this.close();
  }
}
