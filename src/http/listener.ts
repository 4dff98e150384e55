/**
 * One client listener, as `listen` describes it (config/listener-config.ts):
 *
 *   plain       node:http; HTTP/1.1 only.
 *   plain+h2c   node:http listening, and HTTP/2 with prior knowledge beside it: the first bytes
 *               of each connection are compared with the HTTP/2 connection preface
 *               ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", RFC 9113 §3.4) and the socket goes to a
 *               node:http2 server or stays with node:http. node:http2's createServer speaks
 *               HTTP/2 only, and no HTTP/1.1 method is PRI, so the first few bytes decide
 *               (Netty and Vert.x sniff the same way; Go's h2c handler parses PRI as a request).
 *   tls         node:http2 createSecureServer with allowHTTP1: ALPN offers h2 and http/1.1,
 *               TLS 1.2 at least, and the certificate is reloaded by TlsReloader.
 *
 * Every kind hands the same request handler IncomingMessage/ServerResponse-shaped objects
 * (HTTP/2 ones through http2-compat.ts). Only WebSocket handshakes reach the upgrade handler:
 * a request with any other Upgrade (curl --http2 sends "Upgrade: h2c") is served as the
 * HTTP/1.1 request it also is (RFC 9110 §7.8 lets a server ignore Upgrade). HTTP/2 over the
 * HTTP/1.1 Upgrade mechanism is deprecated (RFC 9113 §3.1) and not offered.
 */
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createH2Server, createSecureServer, type Http2SecureServer, type Http2Server, type ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ListenerConfig } from '../config/listener-config.js';
import type { Logger } from '../log/logger.js';
import { EdgeHttp2Request, EdgeHttp2Response, isHttp2Request } from './http2-compat.js';
import { type ReloadReason, TlsReloader } from './tls-reloader.js';

export interface ListenerHandlers {
  request(req: IncomingMessage, res: ServerResponse): void;
  /** WebSocket handshakes (HTTP/1.1); absent: no upgrade is ever accepted. */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Requests node:http's parser refused (HTTP/1.1). */
  clientError?(err: Error, socket: Socket): void;
  /**
   * HTTP/1.1 CONNECT, whose socket node:http hands over as for an upgrade; absent: node:http
   * closes it unanswered. HTTP/2 CONNECT is a request like any other (`request`).
   */
  connect?(req: IncomingMessage, socket: Duplex): void;
}

export interface ListenerLimits {
  maxHeaderBytes: number;
  maxHeaderCount: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

function isWebSocket(req: IncomingMessage): boolean {
  return /(?:^|,)\s*websocket\s*(?:,|$)/i.test(req.headers.upgrade ?? '');
}

/**
 * Reads the first bytes of a plain connection and calls `choose(true)` when they are the
 * HTTP/2 preface, `choose(false)` as soon as they cannot be; the bytes read go back in front.
 */
function sniffPreface(socket: Socket, timeoutMs: number, choose: (h2: boolean) => void): void {
  let seen: Buffer | undefined;
  // A connection that sends nothing is dropped after headers_timeout, as node:http would.
  const onTimeout = () => socket.destroy();
  socket.setTimeout(timeoutMs, onTimeout);
  const onData = (chunk: Buffer) => {
    seen = seen ? Buffer.concat([seen, chunk]) : chunk;
    const n = Math.min(seen.length, PREFACE.length);
    const h2 = seen.compare(PREFACE, 0, n, 0, n) === 0;
    if (h2 && seen.length < PREFACE.length) return;
    socket.removeListener('data', onData);
    socket.removeListener('timeout', onTimeout);
    socket.setTimeout(0);
    socket.pause();
    socket.unshift(seen);
    choose(h2);
  };
  socket.on('data', onData);
}

export class Listener {
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly config: ListenerConfig,
    /** The server that listens: node:http, or node:http2's secure server. */
    private readonly server: Server | Http2SecureServer,
    /** The HTTP/2 server for h2c (fed sockets by the sniffer; never listens itself). */
    private readonly h2c: Http2Server | undefined,
    private readonly tls: TlsReloader | undefined,
  ) {
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  static async open(config: ListenerConfig, handlers: ListenerHandlers, limits: ListenerLimits, logger: Logger): Promise<Listener> {
    const http1: ServerOptions = {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node checks headers/request timeouts on this interval (30 s by default).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
      // admit() refuses a missing Host itself, with the same JSON body as every other 400.
      requireHostHeader: false,
      shouldUpgradeCallback: handlers.upgrade ? isWebSocket : () => false,
    };
    const http2 = {
      Http2ServerRequest: EdgeHttp2Request,
      Http2ServerResponse: EdgeHttp2Response,
      // node:http2 resets a stream (ENHANCE_YOUR_CALM) whose header list passes the advertised
      // size; admit() answers 431 past max_header_size, as on HTTP/1.1, up to there.
      // At most 128 streams at a time per connection, nginx's default: node:http2 would allow
      // 2^32-1, and each open stream holds an upstream request.
      settings: { maxHeaderListSize: 2 * limits.maxHeaderBytes, maxConcurrentStreams: 128 },
      // The same for the number of fields: admit() answers 431 past max_header_count, node:http2
      // resets the stream past twice that (and the pseudo-headers); its default is 128.
      maxHeaderListPairs: 2 * limits.maxHeaderCount + 4,
    };
    // node:http's count of header fields is a property, not an option. One more than the limit,
    // so that admit() sees a request over it and answers 431 (Node 24's parser refuses past the
    // count with a 431 of its own; Node 20's dropped the fields past it, silently).
    const maxHeadersCount = limits.maxHeaderCount + 1;
    // An idle HTTP/2 connection closes after keep_alive_timeout, as an HTTP/1.1 one does;
    // close() is graceful (GOAWAY), so streams still open finish first.
    const idleSessions = (session: ServerHttp2Session) => session.setTimeout(limits.keepAliveTimeoutMs, () => session.close());
    const log = logger.child({ listener: `${config.address.host}:${config.address.port}` });

    let server: Server | Http2SecureServer;
    let h2c: Http2Server | undefined;
    let tls: TlsReloader | undefined;
    if (config.tls) {
      const files = config.tls;
      tls = new TlsReloader(files, (options) => (server as Http2SecureServer).setSecureContext(options), log);
      const secure = createSecureServer(
        // A client that has not finished the handshake within headers_timeout is dropped (Node's default is 120 s).
        { ...http2, ...tls.initial(), allowHTTP1: true, handshakeTimeout: limits.headersTimeoutMs, http1Options: http1 as object },
        handlers.request as never,
      );
      // The constructor sets its own upgrade rule; ours serves non-WebSocket upgrades.
      (secure as unknown as { shouldUpgradeCallback: ServerOptions['shouldUpgradeCallback'] }).shouldUpgradeCallback = http1.shouldUpgradeCallback;
      // With allowHTTP1 the secure server is also node:http's Server for HTTP/1.1 connections
      // (same fields, same methods), which its typings do not say.
      (secure as unknown as Server).keepAliveTimeout = limits.keepAliveTimeoutMs;
      (secure as unknown as Server).maxHeadersCount = maxHeadersCount;
      secure.on('session', idleSessions);
      server = secure;
    } else {
      const plain = createServer(http1, handlers.request);
      plain.maxHeadersCount = maxHeadersCount;
      server = plain;
      if (config.h2c) {
        const h2 = createH2Server(http2, handlers.request as never);
        h2.on('session', idleSessions);
        // node:http2 answers CONNECT with an empty 405 unless 'connect' has a listener.
        h2.on('connect', handlers.request as never);
        const [serveHttp1] = plain.listeners('connection') as ((s: Socket) => void)[];
        plain.removeAllListeners('connection');
        plain.on('connection', (socket: Socket) =>
          sniffPreface(socket, limits.headersTimeoutMs, (isH2) => {
            if (isH2) {
              // node:http2 reads what the socket already holds, then the socket itself.
              h2.emit('connection', socket);
            } else {
              serveHttp1!.call(plain, socket);
              socket.resume();
            }
          }),
        );
        h2c = h2;
      }
    }
    if (handlers.upgrade) server.on('upgrade', handlers.upgrade);
    if (handlers.clientError) server.on('clientError', handlers.clientError);
    // On a TLS listener, HTTP/2 CONNECT streams (req, res) and HTTP/1.1 CONNECT sockets
    // (req, socket, head) both come as 'connect'.
    server.on('connect', (req: IncomingMessage, resOrSocket: ServerResponse | Duplex) => {
      if (isHttp2Request(req)) handlers.request(req, resOrSocket as ServerResponse);
      else if (handlers.connect) handlers.connect(req, resOrSocket as Duplex);
      else (resOrSocket as Duplex).destroy();
    });

    const listener = new Listener(config, server, h2c, tls);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.address.port, config.address.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    tls?.start();
    return listener;
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  /** How a client reaches it, for logs: "https://127.0.0.1:8443", "http://…" (+h2c). */
  get url(): string {
    const { host, port } = this.config.address;
    const h = host.includes(':') ? `[${host}]` : host;
    return `${this.config.tls ? 'https' : 'http'}://${h}:${this.port || port}`;
  }

  /** Re-reads the certificate and key (SIGHUP); false when there is no TLS or they were refused. */
  reloadTls(reason: ReloadReason = 'signal'): boolean {
    return this.tls?.reload(reason) ?? false;
  }

  closeIdleConnections(): void {
    (this.server as Server).closeIdleConnections();
  }

  /**
   * Stops accepting connections; HTTP/2 connections get GOAWAY and close once their streams
   * are done. Resolves when every connection is closed (the caller races it with a deadline).
   */
  close(): Promise<void> {
    this.tls?.stop();
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      // The h2c server never listened: close() only sends its sessions GOAWAY.
      this.h2c?.close();
      this.closeIdleConnections();
    });
  }

  /** Ends every connection now (after the drain deadline). */
  destroy(): void {
    this.tls?.stop();
    for (const s of this.sockets) s.destroy();
  }
}
