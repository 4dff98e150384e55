/**
 * The gateway's client listeners (`listen`): "HOST:PORT" as before, a mapping that adds TLS or
 * h2c, or a list of either. The PEM files are read and paired here, once, so that a missing,
 * unreadable or mismatched certificate is a config error at FILE:LINE:COL and not a failure
 * after start; the listener reads them again when it opens and on every reload.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { isAlias, isMap, isScalar, isSeq, type YAMLMap } from 'yaml';
import { type ListenAddress, listenAddress } from './listen-address.js';
import { boolean, type Check, type CheckContext, INVALID, object, oneOf, opt, refine, reject, req, string } from './schema.js';

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

export interface TlsFiles {
  /** Absolute paths of the PEM files (certificate chain, private key). */
  cert: string;
  key: string;
  minVersion: TlsVersion;
  /** Reload when either file changes (SIGHUP reloads either way). */
  watch: boolean;
}

export interface ListenerConfig {
  address: ListenAddress;
  /** TLS with ALPN h2 and http/1.1. */
  tls?: TlsFiles;
  /** HTTP/2 with prior knowledge beside HTTP/1.1 on a plain listener. */
  h2c: boolean;
}

function readPem(path: string, what: string, node: unknown, ctx: CheckContext, at: string): string | typeof INVALID {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return reject(ctx, node, at, `cannot read the ${what} file ${path}: ${e.code ?? e.message}`);
  }
}

const tlsFiles = refine(
  object({
    cert: req(string({ nonEmpty: true })),
    key: req(string({ nonEmpty: true })),
    min_version: opt(oneOf(['TLSv1.2', 'TLSv1.3'] as const), 'TLSv1.2'),
    watch: opt(boolean(), true),
  }),
  (t, node, ctx, path): TlsFiles | typeof INVALID => {
    // Relative to the config file, like rules.file.
    const base = dirname(resolve(ctx.src.file));
    const files: TlsFiles = { cert: resolve(base, t.cert), key: resolve(base, t.key), minVersion: t.min_version, watch: t.watch };
    const map = node as YAMLMap;
    const cert = readPem(files.cert, 'certificate', map.get('cert', true), ctx, `${path}.cert`);
    const key = readPem(files.key, 'private key', map.get('key', true), ctx, `${path}.key`);
    if (cert === INVALID || key === INVALID) return INVALID;
    try {
      createSecureContext({ cert, key });
    } catch (err) {
      return reject(ctx, node, path, `the certificate and key do not make a TLS context: ${(err as Error).message}`);
    }
    return files;
  },
);

const listenerMapping = refine(
  object({
    address: req(listenAddress),
    tls: opt(tlsFiles),
    h2c: opt(boolean(), false),
  }),
  (l, node, ctx, path): ListenerConfig | typeof INVALID => {
    if (l.tls && l.h2c) {
      return reject(ctx, (node as YAMLMap).get('h2c', true), `${path}.h2c`, 'h2c is HTTP/2 without TLS; a TLS listener offers h2 through ALPN already');
    }
    return { address: l.address, tls: l.tls, h2c: l.h2c };
  },
);

/** One listener: "HOST:PORT" or `{ address, tls, h2c }`. */
const listener: Check<ListenerConfig> = (raw, ctx, path) => {
  const node = isAlias(raw) ? raw.resolve(ctx.src.doc) : raw;
  if (isMap(node)) return listenerMapping(raw, ctx, path);
  const address = listenAddress(raw, ctx, path);
  return address === INVALID ? INVALID : { address, h2c: false };
};

/** `listen`: one listener or a non-empty list of them, on distinct addresses. */
export const listeners: Check<ListenerConfig[]> = (raw, ctx, path) => {
  const node = isAlias(raw) ? raw.resolve(ctx.src.doc) : raw;
  if (!isSeq(node)) {
    const one = listener(raw, ctx, path);
    return one === INVALID ? INVALID : [one];
  }
  if (node.items.length === 0) return reject(ctx, raw, path, 'needs at least one listener');
  const out: ListenerConfig[] = [];
  const seen = new Map<string, number>();
  let ok = true;
  for (const [i, item] of node.items.entries()) {
    const l = listener(item, ctx, `${path}[${i}]`);
    if (l === INVALID) {
      ok = false;
      continue;
    }
    // Port 0 (any free port, in tests) may repeat; a fixed address may not.
    const id = `${l.address.host}:${l.address.port}`;
    const first = seen.get(id);
    if (l.address.port !== 0 && first !== undefined) {
      const at = isMap(item) ? (item as YAMLMap).get('address', true) : item;
      ok = false;
      reject(ctx, isScalar(at) ? at : item, `${path}[${i}]`, `duplicate address ${id} (first at ${path}[${first}])`);
      continue;
    }
    seen.set(id, i);
    out.push(l);
  }
  return ok ? out : INVALID;
};
