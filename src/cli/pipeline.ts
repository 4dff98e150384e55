/**
 * `switchyard pipeline [--config FILE] [--products FILE] [--origin URL] [--listen HOST:PORT]`:
 * runs the new pipeline as its own HTTP service until SIGTERM or SIGINT; SIGHUP re-reads the
 * products file (a valid change swaps the pipeline, an invalid one is logged and refused).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../log/logger.js';
import { logProcessWarnings } from '../log/process-warnings.js';
import { createMetrics } from '../metrics/catalogue.js';
import { loadPipelineConfig } from '../pipeline/pipeline-config.js';
import { PipelineServer } from '../pipeline/pipeline-server.js';
import { ProductsFile } from '../products/products-file.js';
import { hostPortArg, onHangup, PACKAGE_ROOT, stopSignal } from './common.js';

export const PIPELINE_USAGE = 'switchyard pipeline [--config FILE] [--products FILE] [--origin URL] [--listen HOST:PORT]';

export async function pipelineCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c', default: resolve(PACKAGE_ROOT, 'config', 'pipeline.yaml') },
      products: { type: 'string' },
      origin: { type: 'string' },
      listen: { type: 'string' },
    },
  });
  const cfg = loadPipelineConfig(values.config);
  const products = ProductsFile.load(values.products ?? cfg.products);
  const logger = createLogger(cfg.log.level);
  logProcessWarnings(logger);
  const metrics = createMetrics();
  const stop = stopSignal(); // before starting, as in gateway.ts
  let server: PipelineServer | undefined;
  // SIGHUP re-reads the products file (Node's default would end the process).
  onHangup(() => {
    const running = server;
    if (!running) return;
    logger.info({ signal: 'SIGHUP', products: products.file }, 'reloading');
    products.reload((p) => running.reload(p), { logger, metrics });
  });
  server = await PipelineServer.start({
    products: products.products,
    listen: values.listen ? hostPortArg(values.listen, '--listen') : cfg.listen,
    admin: cfg.admin,
    origin: values.origin ? hostPortArg(values.origin, '--origin') : undefined,
    metrics,
    logger,
    log: cfg.log,
  });
  await stop;
  await server.stop(5000);
  logger.flush();
  return 0;
}
