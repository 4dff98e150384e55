import { describe, expect, it } from 'vitest';
import { loadGatewayConfig, parseGatewayConfig } from '../../src/config/gateway-config.js';
import { type ConfigError, formatIssue } from '../../src/config/yaml-source.js';

const ok = `listen: "0.0.0.0:8080"
backends:
  legacy: { url: "http://127.0.0.1:8081" }
  pipeline: { url: "http://127.0.0.1:8082", connect_timeout: 500ms, response_timeout: 5s }
rules: { file: rules.yaml }
`;

function issues(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseGatewayConfig(text, 'gw.yaml', env);
    return [];
  } catch (err) {
    return (err as ConfigError).issues.map(formatIssue);
  }
}

describe('gateway config', () => {
  it('applies defaults and keeps backend order', () => {
    const c = parseGatewayConfig(ok, '/etc/sy/gw.yaml', {});
    expect(c.listen).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(c.admin.listen).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(c.backends.map((b) => b.name)).toEqual(['legacy', 'pipeline']);
    expect(c.backends[1]).toMatchObject({ connectTimeoutMs: 500, responseTimeoutMs: 5000 });
    expect(c.rules.file).toBe('/etc/sy/rules.yaml');
    expect(c.rules.redis).toBeUndefined();
    expect(c.debugHeaders).toBe(false);
    expect(Object.isFrozen(c.backends)).toBe(true);
  });

  it('interpolates ${VAR} and ${VAR:-default}', () => {
    const c = parseGatewayConfig(ok.replace('0.0.0.0:8080', '${HOST:-127.0.0.1}:${PORT}'), 'gw.yaml', { PORT: '9999' });
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 9999 });
    expect(issues(ok.replace('0.0.0.0:8080', '${NOPE}'))).toEqual([
      'gw.yaml:1:9: listen: environment variable NOPE is not set (use ${NOPE:-default} for a default)',
    ]);
  });

  it('takes limits.max_header_count, 1000 by default, a whole number from 1', () => {
    expect(parseGatewayConfig(ok, 'gw.yaml', {}).limits.maxHeaderCount).toBe(1000);
    expect(parseGatewayConfig(`${ok}limits: { max_header_count: 100 }\n`, 'gw.yaml', {}).limits.maxHeaderCount).toBe(100);
    expect(issues(`${ok}limits:\n  max_header_count: 0\n`)).toEqual([expect.stringMatching(/^gw\.yaml:7:21: limits\.max_header_count: /)]);
    expect(issues(`${ok}limits:\n  max_header_count: 1.5\n`)).toEqual([expect.stringMatching(/^gw\.yaml:7:21: limits\.max_header_count: /)]);
  });

  it('names file, line, column and key of every error', () => {
    expect(
      issues(`listen: 8080
admin: { listen: "localhost:99999", tokn: x }
backends:
  legacy: { url: "ftp://x" }
  Bad: { url: "http://x:1" }
  pipeline: { url: "http://x:1/path", connect_timeout: soon }
`),
    ).toEqual([
      'gw.yaml:1:1: rules: is required',
      'gw.yaml:1:9: listen: expected a string, got number 8080',
      'gw.yaml:2:18: admin.listen: "localhost:99999" is not HOST:PORT (e.g. "127.0.0.1:8080" or "[::1]:8080")',
      'gw.yaml:2:37: admin.tokn: unknown key (expected one of: listen, token, public_listen)',
      'gw.yaml:4:18: backends.legacy.url: only http:// and https:// backends are supported',
      'gw.yaml:5:3: backends: key "Bad" is not a backend name (lowercase letters, digits, - and _)',
      'gw.yaml:6:20: backends.pipeline.url: a backend URL is an origin (scheme, host, port) without a path',
      'gw.yaml:6:56: backends.pipeline.connect_timeout: expected a duration such as "500ms" or "2s", got a string',
    ]);
  });

  it('loads the shipped config/gateway.yaml, with the pipeline in-process', () => {
    const c = loadGatewayConfig('config/gateway.yaml', {});
    expect(c.backends.map((b) => b.name)).toEqual(['legacy', 'pipeline']);
    expect(c.backends[1]!.inprocess?.products).toMatch(/config\/products\.yaml$/);
    // The admin listener (rules, request samples) stays on loopback unless told otherwise.
    expect(c.admin.listen.host).toBe('127.0.0.1');
    expect(c.admin.publicListen).toBeUndefined();
    expect(c.backends[1]!.inprocess?.shadowListen).toEqual({ host: '127.0.0.1', port: 0 });
    const env = { SWITCHYARD_ADMIN_PUBLIC_LISTEN: '0.0.0.0:9091', SWITCHYARD_PIPELINE_SHADOW_LISTEN: '127.0.0.1:8085' };
    const set = loadGatewayConfig('config/gateway.yaml', env);
    expect(set.admin.publicListen).toEqual({ host: '0.0.0.0', port: 9091 });
    expect(set.backends[1]!.inprocess?.shadowListen).toEqual({ host: '127.0.0.1', port: 8085 });
  });

  it("takes admin.public_listen and an in-process backend's shadow_listen as HOST:PORT", () => {
    const c = parseGatewayConfig(
      'admin: { public_listen: "[::]:9091" }\nbackends:\n  pipeline: { inprocess: true, shadow_listen: "127.0.0.1:8085" }\nrules: { file: r.yaml }\n',
      'gw.yaml',
      {},
    );
    expect(c.admin).toMatchObject({ listen: { host: '127.0.0.1', port: 9090 }, publicListen: { host: '::', port: 9091 } });
    expect(c.backends[0]!.inprocess?.shadowListen).toEqual({ host: '127.0.0.1', port: 8085 });
    expect(
      issues(
        'admin: { public_listen: "9091" }\nbackends:\n  legacy: { url: "http://x:1", shadow_listen: "127.0.0.1:1" }\n  pipeline: { inprocess: true, shadow_listen: 8085 }\nrules: { file: r.yaml }\n',
      ),
    ).toEqual([
      'gw.yaml:1:25: admin.public_listen: "9091" is not HOST:PORT (e.g. "127.0.0.1:8080" or "[::1]:8080")',
      'gw.yaml:3:32: backends.legacy.shadow_listen: "shadow_listen" goes with inprocess: true',
      'gw.yaml:4:47: backends.pipeline.shadow_listen: expected a string, got number 8085',
    ]);
  });

  it('wants exactly one of url and inprocess', () => {
    expect(issues('backends:\n  a: { connect_timeout: 1s }\n  b: { url: "http://x:1", inprocess: true }\nrules: { file: r.yaml }\n')).toEqual([
      'gw.yaml:2:6: backends.a: a backend needs a url, or urls (or inprocess: true for the built-in pipeline)',
      'gw.yaml:3:8: backends.b.url: an in-process backend has no hosts, hence no "url"',
    ]);
  });
});

describe('backends with several hosts', () => {
  const withBackend = (b: string) => `backends:\n  legacy: ${b}\nrules: { file: r.yaml }\n`;

  it('takes urls, a balance, health checks, outlier ejection and retries', () => {
    const c = parseGatewayConfig(
      withBackend(`
    urls: ["http://10.0.0.1:8081", "http://10.0.0.2:8081/"]
    balance: round_robin
    health: { path: /healthz, interval: 2s, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 2, expect_status: [200, "3xx"] }
    outlier: { consecutive_failures: 3, ejection_time: 10s, max_ejected_percent: 100 }
    retries: { attempts: 2, on: [refused, reset] }`),
      'gw.yaml',
      {},
    );
    const b = c.backends[0]!;
    expect(b.urls.map((u) => u.origin)).toEqual(['http://10.0.0.1:8081', 'http://10.0.0.2:8081']);
    expect(b.url.origin).toBe('http://10.0.0.1:8081');
    expect(b).toMatchObject({ balance: 'round_robin', outlier: { consecutiveFailures: 3, ejectionTimeMs: 10_000, maxEjectedPercent: 100 } });
    expect(b.health).toMatchObject({ path: '/healthz', intervalMs: 2000, timeoutMs: 500, healthyThreshold: 1, unhealthyThreshold: 2 });
    expect([200, 301, 399, 204, 500].map((s) => b.health!.expect(s))).toEqual([true, true, true, false, false]);
    expect(b.retries.attempts).toBe(2);
    expect([...b.retries.on]).toEqual(['refused', 'reset']);
  });

  it('defaults: one url, least_request, no active checks, ejection on, one retry on connect failures', () => {
    const b = parseGatewayConfig(withBackend('{ url: "http://10.0.0.1:8081" }'), 'gw.yaml', {}).backends[0]!;
    expect(b.urls).toHaveLength(1);
    expect(b).toMatchObject({
      balance: 'least_request',
      health: undefined,
      outlier: { consecutiveFailures: 5, ejectionTimeMs: 30_000, maxEjectedPercent: 50 },
    });
    expect([...b.retries.on]).toEqual(['refused', 'connect_timeout']);
    expect(parseGatewayConfig(withBackend('{ url: "http://a:1", outlier: { consecutive_failures: 0 } }'), 'gw.yaml', {}).backends[0]!.outlier).toBeUndefined();
  });

  it('takes the upstream client: switchyard by default, undici on request, nothing for an in-process backend', () => {
    const client = (b: string) => parseGatewayConfig(withBackend(b), 'gw.yaml', {}).backends[0]!.client;
    expect(client('{ url: "http://a:1" }')).toBe('switchyard');
    expect(client('{ url: "http://a:1", client: undici }')).toBe('undici');
    expect(issues(withBackend('{ url: "http://a:1", client: curl }'))).toEqual([
      'gw.yaml:2:40: backends.legacy.client: "curl" is not one of switchyard, undici',
    ]);
    expect(issues(withBackend('{ inprocess: true, client: undici }'))).toEqual([
      'gw.yaml:2:30: backends.legacy.client: an in-process backend has no hosts, hence no "client"',
    ]);
  });

  it('names FILE:LINE:COL and the key for url and urls together, an empty or repeated list, and bad health settings', () => {
    expect(issues(withBackend('{ url: "http://a:1", urls: ["http://b:1"] }'))).toEqual([
      'gw.yaml:2:32: backends.legacy.urls: a backend has "url" (one host) or "urls" (several), not both',
    ]);
    expect(issues(withBackend('{ urls: [] }'))).toEqual(['gw.yaml:2:19: backends.legacy.urls: needs at least 1 item(s)']);
    expect(issues(withBackend('{ urls: ["http://a:1", "http://a:1/"] }'))).toEqual(['gw.yaml:2:13: backends.legacy.urls: http://a:1 is listed twice']);
    expect(issues(withBackend('{ url: "http://a:1", balance: random, health: { expect_status: "2xxx" } }'))).toEqual([
      'gw.yaml:2:41: backends.legacy.balance: "random" is not one of round_robin, least_request',
      'gw.yaml:2:74: backends.legacy.health.expect_status: "2xxx" is not a status such as 200 or a class such as "2xx"',
    ]);
    expect(issues(withBackend('{ url: "http://a:1", health: { interval: 1s, timeout: 2s } }'))).toEqual([
      'gw.yaml:2:56: backends.legacy.health.timeout: 2000ms is longer than the interval (1000ms)',
    ]);
    expect(issues(withBackend('{ inprocess: true, retries: { attempts: 1 } }'))).toEqual([
      'gw.yaml:2:30: backends.legacy.retries: an in-process backend has no hosts, hence no "retries"',
    ]);
  });

  it('reads shadow.redact (names added to the defaults, lowercased) and names line, column and key of a bad one', () => {
    expect(parseGatewayConfig(ok, 'gw.yaml', {}).shadow.redact).toEqual({ headers: [], query: [] });
    const c = parseGatewayConfig(`${ok}shadow:\n  redact:\n    headers: [X-Customer-*, x-tenant]\n    query: [Sig]\n`, 'gw.yaml', {});
    expect(c.shadow.redact).toEqual({ headers: ['x-customer-*', 'x-tenant'], query: ['sig'] });
    expect(issues(`${ok}shadow:\n  redact:\n    headers: ["x customer"]\n    query: [""]\n    cookies: [a]\n`)).toEqual([
      expect.stringMatching(/^gw\.yaml:8:15: shadow\.redact\.headers\[0\]: "x customer" is not a header name or a pattern with \*/),
      'gw.yaml:9:13: shadow.redact.query[0]: must not be empty',
      'gw.yaml:10:5: shadow.redact.cookies: unknown key (expected one of: headers, query)',
    ]);
  });
});
