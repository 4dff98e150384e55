/**
 * `switchyard legacy [--products FILE] [--origin URL] [--listen HOST:PORT] [--prefix DIR]`:
 * runs the legacy layer (nginx + Lua) in the foreground until SIGTERM or SIGINT; SIGHUP reloads
 * the products file into nginx (LegacyLayer.reload).
 * `switchyard products validate FILE`: FILE:LINE:COL errors, exit 1 when invalid.
 */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatIssue } from '../config/yaml-source.js';
import { LegacyLayer } from '../legacy/legacy-layer.js';
import { createLogger } from '../log/logger.js';
import { validateProductsText } from '../products/products-config.js';
import { ProductsFile } from '../products/products-file.js';
import { hostPortArg, onHangup, PACKAGE_ROOT, stopSignal, UsageError } from './common.js';

export const LEGACY_USAGE = 'switchyard legacy [--products FILE] [--origin URL] [--listen HOST:PORT] [--prefix DIR] [--access-log]';
export const PRODUCTS_USAGE = 'switchyard products validate FILE';

export async function legacyCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      products: { type: 'string', default: 'config/products.yaml' },
      origin: { type: 'string' },
      listen: { type: 'string', default: '127.0.0.1:8081' },
      prefix: { type: 'string', default: '.switchyard/legacy' },
      'access-log': { type: 'boolean', default: false },
    },
  });
  const products = ProductsFile.load(values.products);
  const logger = createLogger();
  // Listening for the stop signal before starting (as the gateway does): a SIGTERM that comes
  // while nginx starts, or as soon as the line below is read, must stop nginx, not meet Node's
  // default action (exit by signal, nginx left behind).
  let layerExited: (exited: Promise<unknown>) => void = () => undefined;
  const stop = stopSignal(new Promise((resolve) => (layerExited = (exited) => void exited.then(resolve, resolve))));
  let layer: LegacyLayer | undefined;
  // SIGHUP: regenerate, `nginx -t`, and only then reload nginx (Node's default would end the
  // launcher and leave nginx running without it). Forced: an unchanged products file still
  // reloads nginx, which picks up edits of the Lua code and the template.
  onHangup(() => {
    const running = layer;
    if (!running) return;
    logger.info({ signal: 'SIGHUP', products: products.file }, 'reloading');
    products.reload((p) => running.reload(p), { logger, force: true });
  });
  layer = await LegacyLayer.start(
    {
      products: products.products,
      origin: values.origin ? hostPortArg(values.origin, '--origin') : undefined,
      listen: hostPortArg(values.listen, '--listen'),
      prefix: resolve(values.prefix),
      accessLog: values['access-log'],
    },
    PACKAGE_ROOT,
  );
  layerExited(layer.exited);
  process.stderr.write(`legacy layer on ${layer.url} (nginx config ${layer.conf}); Ctrl-C stops it, SIGHUP reloads ${products.file}\n`);
  await stop;
  await layer.stop();
  logger.flush();
  return 0;
}

export function productsCommand(argv: string[]): number {
  const [sub, file, ...rest] = argv;
  if (sub !== 'validate' || !file || rest.length) throw new UsageError(`usage: ${PRODUCTS_USAGE}`);
  const issues = validateProductsText(readFileSync(file, 'utf8'), file);
  for (const i of issues) process.stderr.write(formatIssue(i) + '\n');
  if (issues.length) return 1;
  process.stdout.write('ok\n');
  return 0;
}
