/**
 * The new pipeline as a backend inside the gateway process (`backends.NAME.inprocess: true`).
 * Primary requests are handed to the pipeline directly, with no second HTTP hop; the pipeline
 * also listens (`shadow_listen`, default a random loopback port) so that shadow copies (which
 * need a connection pool of their own) and anything else that wants a URL can reach it.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { BackendConfig } from '../config/gateway-config.js';
import { localUrl } from '../config/listen-address.js';
import type { Backend, ForwardOptions, ForwardOutcome } from '../forward/backend.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/catalogue.js';
import { ProductsFile } from '../products/products-file.js';
import { PipelineServer } from './pipeline-server.js';

export class InProcessBackend implements Backend {
  readonly name: string;
  /** In the gateway's own process: up as long as the gateway is. */
  readonly up = true;

  private constructor(
    readonly config: BackendConfig,
    readonly server: PipelineServer,
    private readonly products: ProductsFile,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.name = config.name;
  }

  static async start(cfg: BackendConfig, metrics: Metrics, logger: Logger): Promise<InProcessBackend> {
    const { products: file, shadowListen } = cfg.inprocess!;
    const products = ProductsFile.load(file);
    const log = logger.child({ backend: cfg.name });
    const server = await PipelineServer.start({ products: products.products, listen: shadowListen, metrics, logger: log });
    return new InProcessBackend(Object.freeze({ ...cfg, url: new URL(localUrl(shadowListen, server.port)) }), server, products, metrics, log);
  }

  /** SIGHUP: re-reads the products file; a valid change swaps the pipeline, an invalid one is logged and refused. */
  reload(): void {
    this.products.reload((p) => this.server.reload(p), { logger: this.logger, metrics: this.metrics });
  }

  status() {
    return { state: 'up' as const, hosts: [] };
  }

  target(): URL {
    return this.config.url;
  }

  forward(req: IncomingMessage, res: ServerResponse, opts: ForwardOptions, done: (o: ForwardOutcome) => void): void {
    // The pipeline sees what it would see over HTTP: the gateway's headers, except that the
    // client address is appended to x-forwarded-for by the pipeline itself (no extra hop here).
    const headers: Record<string, string | string[] | undefined> = { ...opts.headers };
    headers['x-forwarded-for'] = req.headers['x-forwarded-for'];
    // A body of unknown length would reach it chunked over HTTP; without saying so (the upstream
    // headers drop transfer-encoding, hop-by-hop), the pipeline would see no body and forward none.
    if (headers['content-length'] === undefined && req.headers['transfer-encoding'] !== undefined) headers['transfer-encoding'] = 'chunked';
    req.headers = headers as IncomingHttpHeaders;
    const body = Buffer.isBuffer(opts.body) ? Readable.from([opts.body]) : opts.body;
    this.server.pipeline.handle(req, res, { body, tap: opts.tap, responseHeaders: opts.responseHeaders, done });
  }

  destroy(): Promise<void> {
    return this.server.stop(0);
  }
}
