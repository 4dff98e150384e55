/**
 * `config/pipeline.yaml`: the pipeline as a service of its own (`switchyard pipeline`).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { listenAddress, type ListenAddress } from '../config/listen-address.js';
import { deepFreeze } from '../util/deep-freeze.js';
import { logConfigOf, logSection, type LogConfig } from '../config/log-config.js';
import { object, opt, req, section, string, validateDocument } from '../config/schema.js';
import { parseYamlSource } from '../config/yaml-source.js';

export interface PipelineConfig {
  listen: ListenAddress;
  admin: ListenAddress;
  /** Absolute path of the products file. */
  products: string;
  log: LogConfig;
}

const schema = object({
  listen: opt(listenAddress, { host: '127.0.0.1', port: 8082 }),
  admin: opt(section({ listen: opt(listenAddress, { host: '127.0.0.1', port: 9092 }) })),
  products: req(string({ nonEmpty: true })),
  log: opt(logSection),
});

export function loadPipelineConfig(file: string, env: Record<string, string | undefined> = process.env): PipelineConfig {
  const src = parseYamlSource(readFileSync(file, 'utf8'), file);
  const raw = validateDocument(src, schema, env);
  return deepFreeze({ listen: raw.listen, admin: raw.admin.listen, products: resolve(dirname(resolve(file)), raw.products), log: logConfigOf(raw.log) });
}
