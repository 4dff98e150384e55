/**
 * `switchyard legacy [--products FILE] [--origin URL] [--listen HOST:PORT] [--prefix DIR]`:
 * runs the legacy layer (nginx + Lua) in the foreground until SIGTERM or SIGINT.
 * `switchyard products validate FILE`: FILE:LINE:COL errors, exit 1 when invalid.
 */
import { formatIssue } from '../config/yaml-source.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LegacyLayer } from '../legacy/legacy-layer.js';
import { loadProducts, validateProductsText } from '../products/products-config.js';
import { PACKAGE_ROOT, UsageError, hostPortArg, stopSignal } from './common.js';

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
  const products = loadProducts(values.products);
  const layer = await LegacyLayer.start(
    {
      products,
      origin: values.origin ? hostPortArg(values.origin, '--origin') : undefined,
      listen: hostPortArg(values.listen, '--listen'),
      prefix: resolve(values.prefix),
      accessLog: values['access-log'],
    },
    PACKAGE_ROOT,
  );
  process.stderr.write(`legacy layer on ${layer.url} (nginx config ${layer.conf}); Ctrl-C stops it\n`);
  await stopSignal(layer.exited);
  await layer.stop();
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
