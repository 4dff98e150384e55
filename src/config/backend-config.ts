/**
 * One entry of the gateway config's `backends` (docs/config.md): where its hosts are, how a host
 * is picked, how hosts are health-checked and ejected, and when a request is retried on another
 * host. Validated here into a frozen BackendConfig; gateway-config.ts holds the rest of the file.
 */
import { isScalar } from 'yaml';
import { type ListenAddress, listenAddress } from './listen-address.js';
import {
  boolean,
  type Check,
  deref,
  duration,
  INVALID,
  type Invalid,
  keyNodeAt,
  list,
  number,
  object,
  oneOf,
  opt,
  refine,
  reject,
  size,
  string,
} from './schema.js';

export type Balance = 'round_robin' | 'least_request';
/**
 * Which HTTP/1.1 client carries requests to a backend's http:// hosts: switchyard's own
 * (forward/h1-pool.ts, the default) or undici for every request, as before issue 14 (an escape
 * hatch should an upstream disagree with the new client). https:// hosts and streamed request
 * bodies always go through undici.
 */
export type UpstreamClientKind = 'switchyard' | 'undici';
/** Connection-level failures a request may be retried on, on another host of the same backend. */
export type RetryOn = 'refused' | 'connect_timeout' | 'reset';

export interface HealthCheckConfig {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive passing checks that bring an unhealthy host back. */
  healthyThreshold: number;
  /** Consecutive failing checks that take a healthy host out. */
  unhealthyThreshold: number;
  /** Whether a check's status counts as passing. */
  expect: (status: number) => boolean;
  /** `expect_status` as written, for /readyz and logs. */
  expectText: string;
}

export interface OutlierConfig {
  consecutiveFailures: number;
  ejectionTimeMs: number;
  /** Percent of the backend's hosts that may be ejected at once (at least one host when > 0). */
  maxEjectedPercent: number;
}

export interface RetryConfig {
  /** Further attempts after the first, each on a host not tried yet; 0 = no retries. */
  attempts: number;
  on: ReadonlySet<RetryOn>;
}

export interface BackendConfig {
  name: string;
  /** The first host (for an in-process pipeline: its loopback address, known once it started). */
  url: URL;
  /** Every host, in declaration order; one connection pool each (forward/upstream-client.ts). */
  urls: readonly URL[];
  balance: Balance;
  /**
   * Run the new pipeline inside the gateway process, with this products file. It also listens
   * on `shadowListen` (default a random loopback port) for the shadow copies sent to it.
   */
  inprocess?: { products: string; shadowListen: ListenAddress };
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  /** Upper bound of keep-alive connections in each host's pool. */
  connections: number;
  /** Default switchyard. */
  client?: UpstreamClientKind;
  /** Requests that may wait for one of those connections, per host; past it: 503 SWY_ERR_UPSTREAM_BUSY. */
  queue: number;
  /**
   * Read a request body whole, up to this many bytes, before taking a connection from the pool
   * (0: stream it as it arrives). Larger bodies stream after the first `requestBuffering` bytes.
   * A body read whole can also be sent again: to another host (retries) or to a route's fallback.
   */
  requestBuffering: number;
  /** Active health checks; undefined = none (every host counts as healthy unless ejected). */
  health?: HealthCheckConfig;
  /** Passive outlier ejection; undefined = off. */
  outlier?: OutlierConfig;
  retries: RetryConfig;
}

/** Hosts per backend are bounded: they are metric label values, and a bit each in a retry mask. */
export const MAX_HOSTS = 32;

export const DEFAULT_OUTLIER: OutlierConfig = Object.freeze({ consecutiveFailures: 5, ejectionTimeMs: 30_000, maxEjectedPercent: 50 });
export const NO_RETRIES: RetryConfig = Object.freeze({ attempts: 0, on: new Set<RetryOn>() });

/** What `request_buffering: on` means, and its default toward HTTP backends (1 MiB). */
export const DEFAULT_REQUEST_BUFFERING = 1024 * 1024;
/** `request_buffering`: a size, or on/off (also true/false). */
const bufferSize = size({ max: 64 * 1024 * 1024 });
const requestBuffering: Check<number> = (raw, ctx, path) => {
  const node = deref(raw, ctx);
  if (isScalar(node) && (node.value === true || node.value === 'on')) return DEFAULT_REQUEST_BUFFERING;
  if (isScalar(node) && (node.value === false || node.value === 'off')) return 0;
  return bufferSize(raw, ctx, path);
};

const backendUrl: Check<URL> = refine(string(), (value, node, ctx, path) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return reject(ctx, node, path, `${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return reject(ctx, node, path, 'only http:// and https:// backends are supported');
  if (url.pathname !== '/' || url.search) return reject(ctx, node, path, 'a backend URL is an origin (scheme, host, port) without a path');
  return url;
});

/** `expect_status`: a status (200), a class ("2xx"), or a list of either. */
const statusItem: Check<number | string> = (raw, ctx, path) => {
  const n = number({ integer: true, min: 100, max: 599 });
  const s = string({ pattern: /^[1-5]xx$/, patternHint: 'a status such as 200 or a class such as "2xx"' });
  const node = raw as { value?: unknown };
  return typeof node?.value === 'number' ? n(raw, ctx, path) : s(raw, ctx, path);
};
const expectStatus: Check<(number | string)[]> = (raw, ctx, path) => {
  const node = raw as { items?: unknown };
  if (Array.isArray(node?.items)) return list(statusItem, { min: 1 })(raw, ctx, path);
  const one = statusItem(raw, ctx, path);
  return one === INVALID ? INVALID : [one];
};

function compileExpect(items: readonly (number | string)[]): (status: number) => boolean {
  const codes = new Set(items.filter((i): i is number => typeof i === 'number'));
  const classes = new Set(items.filter((i): i is string => typeof i === 'string').map((c) => Number(c[0])));
  return (status) => codes.has(status) || classes.has(Math.floor(status / 100));
}

const healthSchema = refine(
  object({
    path: opt(string({ pattern: /^\/[^\s]*$/, patternHint: 'a path starting with "/"' }), '/'),
    interval: opt(duration({ min: 100, max: 3_600_000 }), 5000),
    timeout: opt(duration({ min: 10, max: 600_000 }), 1000),
    healthy_threshold: opt(number({ integer: true, min: 1, max: 100 }), 2),
    unhealthy_threshold: opt(number({ integer: true, min: 1, max: 100 }), 3),
    expect_status: opt(expectStatus, ['2xx']),
  }),
  (h, node, ctx, path): HealthCheckConfig | typeof INVALID => {
    if (h.timeout > h.interval)
      return reject(ctx, keyNodeAt(node, 'timeout'), `${path}.timeout`, `${h.timeout}ms is longer than the interval (${h.interval}ms)`);
    return {
      path: h.path,
      intervalMs: h.interval,
      timeoutMs: h.timeout,
      healthyThreshold: h.healthy_threshold,
      unhealthyThreshold: h.unhealthy_threshold,
      expect: compileExpect(h.expect_status),
      expectText: h.expect_status.join(', '),
    };
  },
);

const outlierSchema = refine(
  object({
    // 0 turns passive ejection off for this backend.
    consecutive_failures: opt(number({ integer: true, min: 0, max: 10_000 }), DEFAULT_OUTLIER.consecutiveFailures),
    ejection_time: opt(duration({ min: 100, max: 3_600_000 }), DEFAULT_OUTLIER.ejectionTimeMs),
    max_ejected_percent: opt(number({ min: 0, max: 100 }), DEFAULT_OUTLIER.maxEjectedPercent),
  }),
  (o): OutlierConfig | undefined =>
    o.consecutive_failures === 0
      ? undefined
      : { consecutiveFailures: o.consecutive_failures, ejectionTimeMs: o.ejection_time, maxEjectedPercent: o.max_ejected_percent },
);

const retriesSchema = refine(
  object({
    attempts: opt(number({ integer: true, min: 0, max: MAX_HOSTS - 1 }), 1),
    on: opt(list(oneOf(['refused', 'connect_timeout', 'reset'] as const), { min: 1 }), ['refused', 'connect_timeout'] as RetryOn[]),
  }),
  (r): RetryConfig => ({ attempts: r.attempts, on: new Set(r.on) }),
);

const DEFAULT_RETRIES: RetryConfig = Object.freeze({ attempts: 1, on: new Set<RetryOn>(['refused', 'connect_timeout']) });

const backendFields = object({
  url: opt(backendUrl),
  urls: opt(list(backendUrl, { min: 1, max: MAX_HOSTS })),
  balance: opt(oneOf(['round_robin', 'least_request'] as const), 'least_request' as Balance),
  inprocess: opt(boolean(), false),
  products: opt(string({ nonEmpty: true })),
  shadow_listen: opt(listenAddress),
  connect_timeout: opt(duration({ min: 1 }), 2000),
  response_timeout: opt(duration({ min: 1 }), 30_000),
  connections: opt(number({ integer: true, min: 1, max: 10_000 }), 256),
  client: opt(oneOf(['switchyard', 'undici'] as const), 'switchyard' as UpstreamClientKind),
  queue: opt(number({ integer: true, min: 0, max: 1_000_000 }), 1024),
  request_buffering: opt(requestBuffering),
  health: opt(healthSchema),
  // Absent: ejection with the defaults, as NGINX's max_fails does for every upstream.
  outlier: opt(outlierSchema as Check<OutlierConfig | undefined>, DEFAULT_OUTLIER),
  retries: opt(retriesSchema, DEFAULT_RETRIES),
});
type BackendRaw = Exclude<ReturnType<typeof backendFields>, Invalid>;

/** The schema of one backend; `name` and path resolution are the caller's. */
export const backendSchema = refine(backendFields, (b, node, ctx, path): (BackendRaw & { urls: URL[] }) | Invalid => {
  const at = (key: string, message: string): Invalid => reject(ctx, keyNodeAt(node, key), `${path}.${key}`, message);
  if (b.url && b.urls) return at('urls', 'a backend has "url" (one host) or "urls" (several), not both');
  const urls = b.urls ?? (b.url ? [b.url] : []);
  if (b.inprocess) {
    for (const key of ['url', 'urls', 'health', 'retries', 'balance', 'outlier', 'client'] as const) {
      if (keyNodeAt(node, key) !== node) return at(key, `an in-process backend has no hosts, hence no "${key}"`);
    }
  } else {
    if (urls.length === 0) return reject(ctx, node, path, 'a backend needs a url, or urls (or inprocess: true for the built-in pipeline)');
    if (b.products) return at('products', '"products" goes with inprocess: true');
    if (b.shadow_listen) return at('shadow_listen', '"shadow_listen" goes with inprocess: true');
    const seen = new Set<string>();
    for (const u of urls) {
      if (seen.has(u.origin)) return at('urls', `${u.origin} is listed twice`);
      seen.add(u.origin);
    }
  }
  return { ...b, urls };
});
