/** The `HOST:PORT` form every listener in every config file uses, as one schema check. */
import { INVALID, refine, reject, string, type Check } from './schema.js';

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

/**
 * The http:// origin a client on this machine uses to reach a listener: a wildcard host
 * ("0.0.0.0", "::") is reached on loopback, and an IPv6 host gets its brackets.
 */
export function localUrl(addr: ListenAddress, port = addr.port): string {
  const host = addr.host === '0.0.0.0' || addr.host === '' ? '127.0.0.1' : addr.host === '::' ? '::1' : addr.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** A listener that may be switched off: `""` (e.g. an unset `${VAR:-}`) means none. */
export const optionalListenAddress: Check<ListenAddress | undefined> = (raw, ctx, path) => {
  const value = string()(raw, ctx, path);
  return value === '' ? undefined : value === INVALID ? INVALID : listenAddress(raw, ctx, path);
};
