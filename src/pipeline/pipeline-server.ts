/**
 * The pipeline as its own HTTP service: the client listener (the same edge limits as the legacy
 * layer: 8 KiB request line and header block), an access line per request when `log` asks for
 * one (the same line as the gateway's), and an admin listener with /healthz, /readyz and
 * /metrics.
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { AdminServer } from '../admin/admin-server.js';
import type { ListenAddress } from '../config/listen-address.js';
import { answerClientError } from '../http/client-errors.js';
import { AccessLog, type AccessLogConfig } from '../log/access-log.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/catalogue.js';
import type { ProductsConfig } from '../products/products-config.js';
import { PIPELINE_MAX_URL, Pipeline } from './engine.js';
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

export class PipelineServer {
  private constructor(
    readonly pipeline: Pipeline,
    private readonly server: Server,
    private readonly admin: AdminServer | undefined,
  ) {}

  static async start(o: PipelineServerOptions): Promise<PipelineServer> {
    const access = o.log && AccessLog.of(o.logger, o.log);
    const pipeline = new Pipeline(o.products, { metrics: o.metrics, logger: o.logger, origin: o.origin, modules: o.modules, access });
    const server = createServer({ maxHeaderSize: PIPELINE_MAX_URL, requireHostHeader: false, keepAliveTimeout: 65_000 }, pipeline.handle);
    // An expectation other than 100-continue is served as nginx serves it, ignored; Node would
    // answer 417 itself (RFC 9110 §10.1.1 allows either; found by the differential fuzz).
    server.on('checkExpectation', pipeline.handle);
    server.on('clientError', (err, socket: Socket) => {
      const refused = answerClientError(err, socket, PIPELINE_MAX_URL);
      if (refused) pipeline.logRefused(refused);
    });
    let admin: AdminServer | undefined;
    if (o.admin) {
      admin = new AdminServer('');
      admin.route('GET', '/healthz', () => ({ status: 200, body: { status: 'ok' } }));
      admin.route('GET', '/readyz', () => ({ status: 200, body: { ready: true, modules: pipeline.modules.map((m) => m.module.name) } }));
      admin.route('GET', '/metrics', async () => ({ status: 200, body: await o.metrics.registry.metrics(), contentType: o.metrics.registry.contentType }));
      await admin.listen(o.admin);
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.listen.port, o.listen.host, () => resolve());
    });
    const s = new PipelineServer(pipeline, server, admin);
    o.logger.info({ listen: s.port, admin: admin?.port, modules: pipeline.modules.map((m) => m.module.name), exec_argv: process.execArgv }, 'pipeline started');
    return s;
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
    await this.pipeline.close();
    await this.admin?.close();
  }
}
