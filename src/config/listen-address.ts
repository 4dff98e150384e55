/** The `HOST:PORT` form every listener in every config file uses, as one schema check. */
import { refine, reject, string, type Check } from './schema.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/** "HOST:PORT" or "[v6]:PORT"; an empty host means all interfaces. */
export const listenAddress: Check<ListenAddress> = refine(string(), (value, node, ctx, path) => {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) return reject(ctx, node, path, `${JSON.stringify(value)} is not HOST:PORT (e.g. "127.0.0.1:8080" or "[::1]:8080")`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
});
