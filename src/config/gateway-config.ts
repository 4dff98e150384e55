/**
 * The gateway config (`config/gateway.yaml`): listeners, backends, where the rules come from.
 * Validated once at start into a frozen object; every error names file, line, column and key.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { deepFreeze } from '../util/deep-freeze.js';
import { TOKEN } from '../util/http-syntax.js';
import { type BackendConfig, backendSchema, DEFAULT_REQUEST_BUFFERING, NO_RETRIES } from './backend-config.js';
import { cidr } from './cidr.js';
import { type ListenAddress, listenAddress, optionalListenAddress } from './listen-address.js';
import { type ListenerConfig, listeners } from './listener-config.js';
import { type LogConfig, logConfigOf, logSection } from './log-config.js';
import { boolean, dict, duration, list, number, object, opt, refine, reject, req, section, size, string, validateDocument } from './schema.js';
import { parseYamlSource } from './yaml-source.js';

export type { BackendConfig } from './backend-config.js';

export interface RedisConfig {
  url?: string;
  prefix: string;
  /** Re-read the active version this often, in case a change notice was lost. */
  pollMs: number;
  /** Where the last applied rule set is written, for starts while Redis is down (default STATE_DIR/rules-snapshot.json). */
  snapshot: string;
  historyLimit: number;
  sentinels?: { host: string; port: number }[];
  sentinelName?: string;
  cluster?: { host: string; port: number }[];
}

export interface GatewayConfig {
  file: string;
  /** Absolute directory for generated state (rules snapshot, diff samples); never inside config/ by default. */
  stateDir: string;
  /** The first listener's address (the only one in the common single-listener case). */
  listen: ListenAddress;
  /** Every client listener, in declaration order (`listen` as one entry or a list). */
  listeners: readonly ListenerConfig[];
  /** `publicListen`: a second address serving only /healthz, /readyz and /metrics. */
  admin: { listen: ListenAddress; token: string; publicListen?: ListenAddress };
  /** In declaration order: this order lays out the split's bucket ranges (see docs/rules.md). */
  backends: readonly BackendConfig[];
  rules: { file: string; watch: boolean; redis?: RedisConfig };
  override: { token: string };
  /** Clients whose X-Forwarded-Proto/-Host are kept (another proxy in front); everyone else's are overwritten. */
  trustedProxies: readonly string[];
  debugHeaders: boolean;
  log: LogConfig;
  shadow: {
    maxConcurrent: number;
    maxPerRoute: number;
    queue: number;
    /** Global bound on bytes held for shadowing (request body tees and response captures). */
    maxBufferedBytes: number;
    /** Worker threads comparing large bodies off the event loop (0: all inline). */
    compareThreads: number;
    samples: { file: string; maxBytes: number; streamMaxLen: number };
    /**
     * Names (lowercase; `*` matches any run of characters) of headers and query parameters
     * redacted in samples besides the defaults (shadow/redact.ts), which stay on.
     */
    redact: { headers: readonly string[]; query: readonly string[] };
  };
  /** The rollout controller and its evidence (docs/rollouts.md); used with rules.redis only. */
  rollouts: { enabled: boolean; tickMs: number; leaseMs: number; bucketMs: number; flushMs: number; retainMs: number };
  limits: {
    maxUrlBytes: number;
    maxHeaderBytes: number;
    /** Header fields of a request; past it, 431 (Node would drop the fields past its own count). */
    maxHeaderCount: number;
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
    /** Request body idle timeout (nginx client_body_timeout): 408 SWY_ERR_CLIENT_TIMEOUT. */
    bodyTimeoutMs: number;
    /** Response write idle timeout to the client (nginx send_timeout): the upstream is aborted. */
    sendTimeoutMs: number;
  };
}

const NAME = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * Header fields a request may carry (`limits.max_header_count`; the pipeline service's edge
 * limit too): where Node stops keeping them. nginx bounds only their size, and the legacy layer
 * reads every one (a WAF rule must see the 120th: test/conformance/scenarios.ts), so the default
 * refuses nothing Node served before; Envoy and Apache default to 100.
 */
export const DEFAULT_MAX_HEADER_COUNT = 1000;

const hostPort = refine(string(), (value, node, ctx, path) => {
  const m = /^(.+):(\d{1,5})$/.exec(value);
  if (!m) return reject(ctx, node, path, `${JSON.stringify(value)} is not HOST:PORT`);
  return { host: m[1]!, port: Number(m[2]) };
});

/**
 * Generated state stays out of config/, which may be a read-only mount (a ConfigMap). The image
 * sets SWITCHYARD_STATE_DIR=/var/lib/switchyard, so configs that do not name a state_dir work there.
 */
export const DEFAULT_STATE_DIR = '.switchyard/state';

const schema = object({
  state_dir: opt(string({ nonEmpty: true })),
  listen: opt(listeners, [{ address: { host: '0.0.0.0', port: 8080 }, h2c: false }]),
  admin: opt(
    section({
      listen: opt(listenAddress, { host: '127.0.0.1', port: 9090 }),
      token: opt(string(), ''),
      public_listen: opt(optionalListenAddress),
    }),
  ),
  backends: req(dict(backendSchema, { key: NAME, keyHint: 'a backend name (lowercase letters, digits, - and _)', min: 1 })),
  rules: req(
    object({
      file: req(string({ nonEmpty: true })),
      watch: opt(boolean(), true),
      redis: opt(
        object({
          url: opt(string()),
          prefix: opt(string({ pattern: /^[A-Za-z0-9:_.-]*$/, patternHint: 'a key prefix of letters, digits and :_.-' }), 'switchyard:'),
          poll_interval: opt(duration({ min: 100 }), 1000),
          snapshot: opt(string({ nonEmpty: true })),
          history: opt(number({ integer: true, min: 1, max: 10_000 }), 50),
          sentinels: opt(list(hostPort, { min: 1 })),
          sentinel_name: opt(string({ nonEmpty: true })),
          cluster: opt(list(hostPort, { min: 1 })),
        }),
      ),
    }),
  ),
  override: opt(section({ token: opt(string(), '') })),
  trusted_proxies: opt(list(cidr), []),
  debug_headers: opt(boolean(), false),
  log: opt(logSection),
  shadow: opt(
    section({
      max_concurrent: opt(number({ integer: true, min: 1, max: 100_000 }), 64),
      max_concurrent_per_route: opt(number({ integer: true, min: 1, max: 100_000 }), 32),
      queue: opt(number({ integer: true, min: 0, max: 1_000_000 }), 256),
      max_buffered_bytes: opt(size(), 64 * 1024 * 1024),
      compare_threads: opt(number({ integer: true, min: 0, max: 64 }), 1),
      samples: opt(
        section({
          file: opt(string({ nonEmpty: true })),
          max_bytes: opt(size(), 10 * 1024 * 1024),
          stream_maxlen: opt(number({ integer: true, min: 1 }), 1000),
        }),
      ),
      redact: opt(
        section({
          headers: opt(list(string({ pattern: TOKEN, patternHint: "a header name or a pattern with * (letters, digits, !#$%&'+.^_`|~-)" })), []),
          query: opt(list(string({ nonEmpty: true })), []),
        }),
      ),
    }),
  ),
  rollouts: opt(
    section({
      enabled: opt(boolean(), true),
      tick: opt(duration({ min: 10, max: 600_000 }), 1000),
      lease: opt(duration({ min: 100, max: 600_000 }), 10_000),
      bucket: opt(duration({ min: 10, max: 3_600_000 }), 10_000),
      flush: opt(duration({ min: 10, max: 600_000 }), 1000),
      retain: opt(duration({ min: 1000, max: 7 * 24 * 3_600_000 }), 3 * 3_600_000),
    }),
  ),
  limits: opt(
    section({
      max_url_length: opt(size({ max: 1024 * 1024 }), 8 * 1024),
      max_header_size: opt(size({ max: 1024 * 1024 }), 32 * 1024),
      max_header_count: opt(number({ min: 1, max: 10_000, integer: true }), DEFAULT_MAX_HEADER_COUNT),
      headers_timeout: opt(duration({ min: 100 }), 20_000),
      request_timeout: opt(duration({ min: 0 }), 300_000),
      keep_alive_timeout: opt(duration({ min: 0 }), 65_000),
      body_timeout: opt(duration({ min: 1 }), 60_000),
      send_timeout: opt(duration({ min: 1 }), 60_000),
    }),
  ),
});

/** Reads and validates a gateway config file; throws ConfigError listing every problem. */
export function loadGatewayConfig(file: string, env: Record<string, string | undefined> = process.env): GatewayConfig {
  const text = readFileSync(file, 'utf8');
  return parseGatewayConfig(text, file, env);
}

export function parseGatewayConfig(text: string, file: string, env: Record<string, string | undefined> = process.env): GatewayConfig {
  const src = parseYamlSource(text, file);
  const raw = validateDocument(src, schema, env);
  const base = dirname(resolve(file));
  const limits = raw.limits;
  const redis = raw.rules.redis;
  // Unlike the other paths, a relative state_dir is relative to the working directory: state
  // belongs to the running process, not to the (possibly read-only, shared) config directory.
  const stateDir = resolve(raw.state_dir ?? (env.SWITCHYARD_STATE_DIR || DEFAULT_STATE_DIR));
  const config: GatewayConfig = {
    file,
    stateDir,
    listen: raw.listen[0]!.address,
    listeners: raw.listen,
    admin: { listen: raw.admin.listen, token: raw.admin.token, publicListen: raw.admin.public_listen },
    backends: Object.entries(raw.backends).map(([name, b]) => ({
      name,
      // Replaced by the in-process pipeline's loopback address when it starts.
      url: b.urls[0] ?? new URL('http://127.0.0.1:0'),
      urls: b.urls,
      balance: b.balance,
      inprocess: b.inprocess
        ? { products: resolve(base, b.products ?? 'products.yaml'), shadowListen: b.shadow_listen ?? { host: '127.0.0.1', port: 0 } }
        : undefined,
      connectTimeoutMs: b.connect_timeout,
      responseTimeoutMs: b.response_timeout,
      connections: b.connections,
      client: b.client,
      queue: b.queue,
      // On by default toward HTTP backends (the legacy layer), like nginx's proxy_request_buffering;
      // off for the in-process pipeline, which reads the body from memory anyway.
      requestBuffering: b.request_buffering ?? (b.inprocess ? 0 : DEFAULT_REQUEST_BUFFERING),
      health: b.inprocess ? undefined : b.health,
      outlier: b.inprocess ? undefined : b.outlier,
      retries: b.inprocess ? NO_RETRIES : b.retries,
    })),
    rules: {
      file: resolve(base, raw.rules.file),
      watch: raw.rules.watch,
      redis: redis && {
        url: redis.url || undefined,
        prefix: redis.prefix,
        pollMs: redis.poll_interval,
        snapshot: redis.snapshot ? resolve(base, redis.snapshot) : join(stateDir, 'rules-snapshot.json'),
        historyLimit: redis.history,
        sentinels: redis.sentinels,
        sentinelName: redis.sentinel_name,
        cluster: redis.cluster,
      },
    },
    override: raw.override,
    trustedProxies: raw.trusted_proxies,
    debugHeaders: raw.debug_headers,
    log: logConfigOf(raw.log),
    shadow: {
      maxConcurrent: raw.shadow.max_concurrent,
      maxPerRoute: raw.shadow.max_concurrent_per_route,
      queue: raw.shadow.queue,
      maxBufferedBytes: raw.shadow.max_buffered_bytes,
      compareThreads: raw.shadow.compare_threads,
      samples: {
        file: raw.shadow.samples.file ? resolve(base, raw.shadow.samples.file) : join(stateDir, 'diff-samples.jsonl'),
        maxBytes: raw.shadow.samples.max_bytes,
        streamMaxLen: raw.shadow.samples.stream_maxlen,
      },
      redact: { headers: raw.shadow.redact.headers.map((h) => h.toLowerCase()), query: raw.shadow.redact.query.map((q) => q.toLowerCase()) },
    },
    rollouts: {
      enabled: raw.rollouts.enabled,
      tickMs: raw.rollouts.tick,
      leaseMs: raw.rollouts.lease,
      bucketMs: raw.rollouts.bucket,
      flushMs: raw.rollouts.flush,
      retainMs: raw.rollouts.retain,
    },
    limits: {
      maxUrlBytes: limits.max_url_length,
      maxHeaderBytes: limits.max_header_size,
      maxHeaderCount: limits.max_header_count,
      headersTimeoutMs: limits.headers_timeout,
      requestTimeoutMs: limits.request_timeout,
      keepAliveTimeoutMs: limits.keep_alive_timeout,
      bodyTimeoutMs: limits.body_timeout,
      sendTimeoutMs: limits.send_timeout,
    },
  };
  return deepFreeze(config);
}
