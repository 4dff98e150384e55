/**
 * `config/products.yaml`: the customer-facing configuration of the edge products, read by the
 * legacy layer (as generated JSON, by Lua) and by the new pipeline. Validated here, once, with
 * the same FILE:LINE:COL errors as the rules. docs/products.md is the reference.
 */
import { readFileSync } from 'node:fs';
import { cidr } from '../config/cidr.js';
import { boolean, type Check, list, number, object, oneOf, opt, refine, reject, req, section, string, unique, validateDocument } from '../config/schema.js';
import { ConfigError, type ConfigIssue, parseYamlSource } from '../config/yaml-source.js';
import { deepFreeze } from '../util/deep-freeze.js';
import { TOKEN } from '../util/http-syntax.js';
import { isDroppedHeaderName } from './edge-limits.js';
import { checkPortableRegex } from './waf-dialect.js';

export interface Redirect {
  id: string;
  /** Exact path, or a prefix ending in "/**" whose remainder is $1 in `to`. */
  from: string;
  to: string;
  status: 301 | 302 | 307 | 308;
  query: 'keep' | 'drop';
}

export type HeaderRule = { op: 'set' | 'add'; name: string; value: string } | { op: 'remove'; name: string };

export interface WafRule {
  id: string;
  /** path (percent-decoded), query (raw), header:NAME, or user_agent. */
  field: string;
  pattern: string;
  /** Case-insensitive match. */
  ignoreCase: boolean;
}

export interface RateLimit {
  id: string;
  /** Path prefix ("/api/**") or exact path this limit covers; absent = every request. */
  path?: string;
  /** "ip" or "header:NAME" (lowercase). */
  key: string;
  /** Tokens added per second. */
  rate: number;
  /** Bucket size: requests allowed at once. */
  burst: number;
  /** What a request without the key gets: 400 (reject) or no limit (allow). */
  missingKey: 'reject' | 'allow';
}

export interface Cors {
  origins: string[];
  methods: string[];
  headers: string[];
  exposeHeaders: string[];
  maxAge: number;
  credentials: boolean;
}

export interface ProductsConfig {
  origin: { url: string; host: string; port: number; connectTimeoutMs: number; readTimeoutMs: number };
  redirects: Redirect[];
  requestHeaders: HeaderRule[];
  responseHeaders: HeaderRule[];
  waf: WafRule[];
  rateLimits: RateLimit[];
  cors?: Cors;
  /** Addresses and CIDRs whose X-Forwarded-For is believed (client-address.ts); [] = none. */
  trustedProxies: string[];
}

/** Methods the edge accepts; anything else is answered 405 by both implementations. */
export const EDGE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export { checkPortableRegex } from './waf-dialect.js';

const regex: Check<string> = refine(string({ nonEmpty: true }), (v, node, ctx, path) => {
  const problem = checkPortableRegex(v);
  return problem ? reject(ctx, node, path, problem) : v;
});

const pathPattern: Check<string> = refine(string(), (v, node, ctx, path) => {
  if (!v.startsWith('/')) return reject(ctx, node, path, 'a path starts with "/"');
  const body = v.endsWith('/**') ? v.slice(0, -3) : v;
  if (body.includes('*')) return reject(ctx, node, path, 'only a trailing "/**" wildcard is allowed');
  return v;
});

/**
 * A WAF field or a rate-limit key: one of `words`, or `header:NAME` (lowercased). A name the
 * edge drops before any product runs (edge-limits.ts) is refused: a rule on it never matches.
 */
const requestField = (words: readonly string[], expected: string) =>
  refine(string(), (v, node, ctx, path) => {
    if (words.includes(v)) return v;
    const name = v.startsWith('header:') ? v.slice('header:'.length) : '';
    if (!TOKEN.test(name)) return reject(ctx, node, path, `${JSON.stringify(v)} is not ${expected}`);
    if (isDroppedHeaderName(name)) {
      return reject(ctx, node, path, `${JSON.stringify(v)} never matches: both implementations drop header names with anything but letters, digits and "-"`);
    }
    return `header:${name.toLowerCase()}`;
  });

const headerName = refine(string({ pattern: TOKEN, patternHint: 'a header name' }), (v) => v.toLowerCase());

const headerRule: Check<HeaderRule> = refine(
  object({ set: opt(headerName), add: opt(headerName), remove: opt(headerName), value: opt(string()) }),
  (r, node, ctx, path) => {
    const ops = (['set', 'add', 'remove'] as const).filter((k) => r[k] !== undefined);
    if (ops.length !== 1) return reject(ctx, node, path, 'a header rule has exactly one of set, add or remove');
    const op = ops[0]!;
    if (op === 'remove') return r.value === undefined ? { op, name: r.remove! } : reject(ctx, node, path, '"remove" takes no value');
    if (r.value === undefined) return reject(ctx, node, path, `"${op}" needs a value`);
    if (/[\r\n\0]/.test(r.value)) return reject(ctx, node, path, 'a header value may not contain CR, LF or NUL');
    return { op, name: r[op]!, value: r.value };
  },
);

const originUrl = refine(string(), (v, node, ctx, path) => {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return reject(ctx, node, path, `${JSON.stringify(v)} is not a URL`);
  }
  if (u.protocol !== 'http:') return reject(ctx, node, path, 'the origin is an http:// URL');
  if (u.pathname !== '/' || u.search) return reject(ctx, node, path, 'the origin URL has no path');
  return { url: u.origin, host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80) };
});

const schema = object({
  trusted_proxies: opt(list(cidr), []),
  origin: req(
    object({
      url: req(originUrl),
      connect_timeout: opt(number({ min: 0.001, max: 600 }), 2),
      read_timeout: opt(number({ min: 0.001, max: 3600 }), 30),
    }),
  ),
  redirects: opt(
    unique(
      'id',
      list(
        refine(
          object({
            id: req(string({ pattern: ID, patternHint: 'an id (letters, digits, _.-)' })),
            from: req(pathPattern),
            to: req(string({ nonEmpty: true })),
            status: opt(
              refine(number({ integer: true }), (v, node, ctx, path) =>
                [301, 302, 307, 308].includes(v) ? (v as Redirect['status']) : reject(ctx, node, path, 'status is 301, 302, 307 or 308'),
              ),
              301 as Redirect['status'],
            ),
            query: opt(oneOf(['keep', 'drop'] as const), 'keep'),
          }),
          (r, node, ctx, path) =>
            r.to.includes('$1') && !r.from.endsWith('/**') ? reject(ctx, node, path, '"$1" in "to" needs a prefix "from" ending in "/**"') : r,
        ),
      ),
    ),
    [],
  ),
  headers: opt(section({ request: opt(list(headerRule), []), response: opt(list(headerRule), []) })),
  waf: opt(
    unique(
      'id',
      list(
        object({
          id: req(string({ pattern: ID, patternHint: 'an id (letters, digits, _.-)' })),
          field: req(requestField(['path', 'query', 'user_agent'], 'path, query, user_agent or header:NAME')),
          pattern: req(regex),
          ignore_case: opt(boolean(), false),
        }),
      ),
    ),
    [],
  ),
  rate_limits: opt(
    unique(
      'id',
      list(
        object({
          id: req(string({ pattern: ID, patternHint: 'an id (letters, digits, _.-)' })),
          path: opt(pathPattern),
          key: req(requestField(['ip'], 'ip or header:NAME')),
          rate: req(number({ min: 0.001, max: 1_000_000 })),
          burst: req(number({ integer: true, min: 1, max: 1_000_000 })),
          missing_key: opt(oneOf(['reject', 'allow'] as const), 'reject'),
        }),
      ),
    ),
    [],
  ),
  cors: opt(
    refine(
      object({
        origins: req(list(string({ pattern: /^(https?:\/\/[^/\s]+|\*)$/, patternHint: 'an origin such as "https://shop.example" (or "*")' }), { min: 1 })),
        methods: opt(list(oneOf(EDGE_METHODS)), ['GET', 'HEAD', 'POST']),
        headers: opt(list(headerName), []),
        expose_headers: opt(list(headerName), []),
        max_age: opt(number({ integer: true, min: 0, max: 86_400 }), 600),
        credentials: opt(boolean(), false),
      }),
      (c, node, ctx, path) =>
        c.credentials && c.origins.includes('*') ? reject(ctx, node, path, 'credentials cannot be combined with the "*" origin (browsers refuse it)') : c,
    ),
  ),
});

/**
 * Parses products YAML; `${VAR}` and `${VAR:-default}` in string values are replaced from `env`
 * the same way as in the gateway config (the schema's string check does it), and an unset
 * variable without a default is a FILE:LINE:COL error.
 */
export function parseProducts(text: string, file: string, env: Record<string, string | undefined> = process.env): ProductsConfig {
  const src = parseYamlSource(text, file);
  const raw = validateDocument(src, schema, env);
  const config: ProductsConfig = {
    origin: { ...raw.origin.url, connectTimeoutMs: raw.origin.connect_timeout * 1000, readTimeoutMs: raw.origin.read_timeout * 1000 },
    redirects: raw.redirects,
    requestHeaders: raw.headers.request,
    responseHeaders: raw.headers.response,
    waf: raw.waf.map((w) => ({ id: w.id, field: w.field, pattern: w.pattern, ignoreCase: w.ignore_case })),
    rateLimits: raw.rate_limits.map((r) => ({ id: r.id, path: r.path, key: r.key, rate: r.rate, burst: r.burst, missingKey: r.missing_key })),
    trustedProxies: raw.trusted_proxies,
    cors: raw.cors && {
      origins: raw.cors.origins,
      methods: raw.cors.methods,
      headers: raw.cors.headers,
      exposeHeaders: raw.cors.expose_headers,
      maxAge: raw.cors.max_age,
      credentials: raw.cors.credentials,
    },
  };
  return deepFreeze(config);
}

export function loadProducts(file: string, env: Record<string, string | undefined> = process.env): ProductsConfig {
  return parseProducts(readFileSync(file, 'utf8'), file, env);
}

export function validateProductsText(text: string, file: string, env: Record<string, string | undefined> = process.env): readonly ConfigIssue[] {
  try {
    parseProducts(text, file, env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
}
