/**
 * The pipeline as its own HTTP service: the client listener (the same edge limits as the legacy
 * layer, products/edge-limits.ts), an access line per request when `log` asks for one (the same
 * line as the gateway's), and an admin listener with /healthz, /readyz and /metrics.
 */
import { createServer, type IncomingMessage, type Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { AdminServer } from '../admin/admin-server.js';
import type { ListenAddress } from '../config/listen-address.js';
import { answerClientError } from '../http/client-errors.js';
import { droppedBehindLast } from '../http/closing-connection.js';
import { AccessLog, type AccessLogConfig } from '../log/access-log.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/catalogue.js';
import { EDGE_MAX_HEAD_BYTES, EDGE_MAX_LINE_BYTES } from '../products/edge-limits.js';
import type { ProductsConfig } from '../products/products-config.js';
import { PIPELINE_MAX_HEADER_COUNT, Pipeline } from './engine.js';
import type { PipelineModule } from './module.js';

export interface PipelineServerOptions {
  products: ProductsConfig;
  listen: ListenAddress;
  admin?: ListenAddress;
  metrics: Metrics;
  logger: Logger;
  origin?: { host: string; port: number };
  modules?: readonly PipelineModule<never>[];
  /** `log.access` and `log.access_sample`; no access line without it (the in-process pipeline). */
  log?: AccessLogConfig;
}

/**
 * node:http hands a CONNECT request over as a tunnel, and closes the connection unanswered when
 * nobody takes it. nginx answers it as a request: 400 for the authority-form target CONNECT
 * has (RFC 9110 §9.3.6), 405 for an origin-form one. The pipeline answers it as a request too
 * (admission refuses the authority-form target, the method guard the method), on the
 * connection it came on, which then closes.
 */
function answerConnect(pipeline: Pipeline, req: IncomingMessage, socket: Socket): void {
  if (droppedBehindLast(req)) {
    socket.destroy();
    return;
  }
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  res.once('finish', () => socket.destroySoon());
  socket.once('close', () => res.destroy());
  pipeline.handle(req, res);
}

export class PipelineServer {
  private current: Pipeline;
  private admin: AdminServer | undefined;

  private constructor(
    private readonly build: (products: ProductsConfig) => Pipeline,
    products: ProductsConfig,
    private readonly server: Server,
  ) {
    this.current = build(products);
  }

  /** The pipeline new requests go to (a reload swaps it). */
  get pipeline(): Pipeline {
    return this.current;
  }

  static async start(o: PipelineServerOptions): Promise<PipelineServer> {
    const access = o.log && AccessLog.of(o.logger, o.log);
    const build = (products: ProductsConfig) => new Pipeline(products, { metrics: o.metrics, logger: o.logger, origin: o.origin, modules: o.modules, access });
    // Node counts only the target, names and values against maxHeaderSize, less than the head
    // the edge measures: the parser refuses only heads the pipeline would refuse (431) itself.
    const server = createServer({ maxHeaderSize: EDGE_MAX_HEAD_BYTES, requireHostHeader: false, keepAliveTimeout: 65_000 }, (req, res) => {
      // Pipelined behind a request whose answer ends the connection: never read, as in nginx.
      if (!droppedBehindLast(req)) s.current.handle(req, res);
    });
    // An expectation other than 100-continue is served as nginx serves it, ignored; Node would
    // answer 417 itself (RFC 9110 §10.1.1 allows either; found by the differential fuzz).
    server.on('checkExpectation', (req, res) => {
      if (!droppedBehindLast(req)) s.current.handle(req, res);
    });
    // One more than the limit: admission answers 431 to a request over it (listener.ts).
    server.maxHeadersCount = PIPELINE_MAX_HEADER_COUNT + 1;
    const s = new PipelineServer(build, o.products, server);
    server.on('clientError', (err, socket: Socket) => {
      const refused = answerClientError(err, socket, EDGE_MAX_LINE_BYTES);
      if (refused) s.current.logRefused(refused);
    });
    server.on('connect', (req: IncomingMessage, socket: Socket) => answerConnect(s.current, req, socket));
    if (o.admin) {
      const admin = new AdminServer('');
      admin.route('GET', '/healthz', () => ({ status: 200, body: { status: 'ok' } }));
      admin.route('GET', '/readyz', () => ({ status: 200, body: { ready: true, modules: s.current.modules.map((m) => m.module.name) } }));
      admin.route('GET', '/metrics', async () => ({ status: 200, body: await o.metrics.registry.metrics(), contentType: o.metrics.registry.contentType }));
      s.admin = admin;
      await admin.listen(o.admin);
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.listen.port, o.listen.host, () => resolve());
    });
    o.logger.info(
      { listen: s.port, admin: s.admin?.port, modules: s.current.modules.map((m) => m.module.name), exec_argv: process.execArgv },
      'pipeline started',
    );
    return s;
  }

  /**
   * Serves `products` from the next request on (SIGHUP): a new pipeline is built (each module's
   * config and a fresh state: rate-limit buckets start full again) and swapped in whole; requests
   * in flight finish on the old one, whose origin pool then closes. Throws, keeping the current
   * pipeline, when a module refuses the products.
   */
  reload(products: ProductsConfig): void {
    const next = this.build(products);
    const old = this.current;
    this.current = next;
    void old.retire().catch(() => undefined);
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  get adminPort(): number | undefined {
    return this.admin?.port;
  }

  async stop(deadlineMs = 10_000): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeIdleConnections();
    await Promise.race([closed, new Promise((r) => setTimeout(r, deadlineMs).unref())]);
    this.server.closeAllConnections();
    await this.current.close();
    await this.admin?.close();
  }
}
