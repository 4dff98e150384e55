/**
 * The products file as a running process holds it: read and validated at start (an invalid file
 * is fatal there, as before), re-read on SIGHUP (issue 11 item 8). A reload hands a valid file
 * to the caller's `apply` (the pipeline swaps its modules, the legacy launcher regenerates and
 * checks nginx's config), which may still refuse it by throwing; whatever happens, the process
 * keeps what it serves unless `apply` returned, and one log line says what was reloaded and how.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, formatIssue } from '../config/yaml-source.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/catalogue.js';
import { type ProductsConfig, parseProducts } from './products-config.js';

/** `unchanged` is not counted in switchyard_products_reloads_total (as for the rules). */
export type ProductsReloadResult = 'applied' | 'unchanged' | 'invalid' | 'error';

export interface ProductsReloadOptions {
  logger: Logger;
  metrics?: Metrics;
  /**
   * Apply an unchanged file anyway (the legacy layer: a reload of nginx also picks up edits of
   * the Lua code and the template). Otherwise an unchanged file keeps the running modules and
   * their state (the pipeline's rate-limit buckets), so a SIGHUP meant for the rules or the
   * certificates costs the products nothing.
   */
  force?: boolean;
}

export class ProductsFile {
  private constructor(
    readonly file: string,
    /** The text of the products in use. */
    private text: string,
    private current: ProductsConfig,
  ) {}

  /** Reads and validates the file; throws ConfigError (FILE:LINE:COL issues) or the read error. */
  static load(file: string): ProductsFile {
    const text = readFileSync(file, 'utf8');
    return new ProductsFile(file, text, parseProducts(text, file));
  }

  get products(): ProductsConfig {
    return this.current;
  }

  /** Re-reads the file and hands valid products to `apply`; logs one line, returns what happened. */
  reload(apply: (products: ProductsConfig) => void, o: ProductsReloadOptions): ProductsReloadResult {
    const file = this.file;
    const done = (result: ProductsReloadResult, fields: object, msg: string): ProductsReloadResult => {
      if (result !== 'unchanged') o.metrics?.productsReloads.inc({ result });
      if (result === 'applied' || result === 'unchanged') o.logger.info({ file, result, ...fields }, msg);
      else o.logger.error({ file, result, ...fields }, msg);
      return result;
    };
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      return done('error', { error: (err as Error).message }, 'products file could not be read; keeping the active products');
    }
    if (text === this.text && !o.force) return done('unchanged', {}, 'products file unchanged');
    let products: ProductsConfig;
    try {
      products = parseProducts(text, file);
    } catch (err) {
      if (err instanceof ConfigError) return done('invalid', { errors: err.issues.map(formatIssue) }, 'products file invalid; keeping the active products');
      return done('error', { error: (err as Error).message }, 'products file not applied; keeping the active products');
    }
    try {
      apply(products);
    } catch (err) {
      return done('error', { error: (err as Error).message }, 'products file not applied; keeping the active products');
    }
    this.text = text;
    this.current = products;
    return done('applied', {}, 'products file reloaded');
  }
}
