/**
 * The rate-limit module's token bucket, through its public handlers, on its state's clock
 * (RateLimitState.now) that the test moves:
 * `burst` tokens, refilled at `rate` per second, capped at `burst`; 429 with Retry-After when
 * empty (docs/products.md, step 3).
 */
import { describe, expect, it } from 'vitest';
import type { RequestView, Verdict } from '../../src/pipeline/module.js';
import { rateLimit } from '../../src/pipeline/modules/rate-limit.js';
import { parseProducts } from '../../src/products/products-config.js';

/** The module configured from `rate_limits:` YAML, its state on a clock (seconds) the test sets. */
function limiter(rules: string) {
  const config = rateLimit.configure(parseProducts(`origin: { url: "http://127.0.0.1:9" }\nrate_limits:\n${rules}`, 'products.yaml'))!;
  const state = rateLimit.createState!(config);
  const clock = { now: 0 };
  state.now = () => clock.now;
  const view = (path: string, ip: string, headers: Record<string, string>): RequestView => ({
    method: 'GET',
    path,
    query: '',
    remoteAddress: ip,
    header: (n) => headers[n],
    headerValues: (n) => (headers[n] === undefined ? undefined : [headers[n]]),
  });
  return {
    clock,
    state,
    /** One request: "ok", or the status and Retry-After of the local reply. */
    hit(path = '/api/x', ip = '10.0.0.1', headers: Record<string, string> = {}): string {
      const r = view(path, ip, headers);
      if (rateLimit.filter && !rateLimit.filter(r, config, state)) return 'ok';
      const v: Verdict = rateLimit.request!({ request: r, vars: {} }, config, state);
      return v.kind === 'continue' ? 'ok' : `${v.status}${v.headers?.['retry-after'] ? ` retry-after ${v.headers['retry-after']}` : ''} ${v.reason}`;
    },
  };
}

const hits = (l: ReturnType<typeof limiter>, n: number, ...args: Parameters<ReturnType<typeof limiter>['hit']>) =>
  Array.from({ length: n }, () => l.hit(...args));

describe('rate limit token bucket', () => {
  const ONE = '  - { id: api, path: "/api/**", key: ip, rate: 2, burst: 3 }\n';

  it('lets a burst through at once, then answers 429 with Retry-After', () => {
    const l = limiter(ONE);
    expect(hits(l, 3)).toEqual(['ok', 'ok', 'ok']);
    expect(l.hit()).toBe('429 retry-after 1 rate_limited:api');
  });

  it('refills at `rate` tokens per second, in fractions', () => {
    const l = limiter(ONE);
    hits(l, 3);
    l.clock.now = 0.25; // half a token
    expect(l.hit()).toMatch(/^429/);
    l.clock.now = 0.5; // one token (the refused request took none)
    expect(l.hit()).toBe('ok');
    expect(l.hit()).toMatch(/^429/);
    l.clock.now = 1.5; // two more
    expect(hits(l, 3)).toEqual(['ok', 'ok', '429 retry-after 1 rate_limited:api']);
  });

  it('caps the bucket at `burst`, however long the key was idle', () => {
    const l = limiter(ONE);
    hits(l, 1);
    l.clock.now = 3600;
    expect(hits(l, 4)).toEqual(['ok', 'ok', 'ok', '429 retry-after 1 rate_limited:api']);
  });

  it('asks a client to retry after the time one token takes, rounded up to whole seconds', () => {
    const slow = limiter('  - { id: slow, key: ip, rate: 0.1, burst: 1 }\n');
    expect(slow.hit('/x')).toBe('ok');
    expect(slow.hit('/x')).toBe('429 retry-after 10 rate_limited:slow');
    slow.clock.now = 7.5; // three quarters of a token: 2.5 s to go
    expect(slow.hit('/x')).toBe('429 retry-after 3 rate_limited:slow');
    slow.clock.now = 10;
    expect(slow.hit('/x')).toBe('ok');
  });

  it('keeps one bucket per key: per client address, or per header value', () => {
    const byIp = limiter(ONE);
    hits(byIp, 3, '/api/x', '10.0.0.1');
    expect(byIp.hit('/api/x', '10.0.0.1')).toMatch(/^429/);
    expect(byIp.hit('/api/x', '10.0.0.2')).toBe('ok');

    const byKey = limiter('  - { id: keyed, key: "header:X-Api-Key", rate: 1, burst: 1 }\n');
    expect(byKey.hit('/a', '10.0.0.1', { 'x-api-key': 'k1' })).toBe('ok');
    expect(byKey.hit('/a', '10.0.0.9', { 'x-api-key': 'k1' })).toMatch(/^429 .* rate_limited:keyed$/); // same key, other address
    expect(byKey.hit('/a', '10.0.0.1', { 'x-api-key': 'k2' })).toBe('ok');
  });

  it('limits only the paths a rule names', () => {
    const l = limiter(ONE);
    hits(l, 3);
    expect(l.hit('/api/x')).toMatch(/^429/);
    expect(l.hit('/api')).toMatch(/^429/); // "/api/**" covers /api itself
    expect(hits(l, 5, '/static/app.js')).toEqual(Array(5).fill('ok'));
    expect(l.hit('/apis')).toBe('ok');
  });

  it('answers 400 for a request without the key when missing_key is reject, and lets it pass when allow', () => {
    const reject = limiter('  - { id: keyed, key: "header:x-api-key", rate: 1, burst: 1, missing_key: reject }\n');
    expect(reject.hit('/a')).toBe('400 rate_limit_key:keyed');
    expect(reject.hit('/a', '10.0.0.1', { 'x-api-key': '' })).toBe('400 rate_limit_key:keyed'); // empty is missing
    const allow = limiter('  - { id: keyed, key: "header:x-api-key", rate: 1, burst: 1, missing_key: allow }\n');
    expect(hits(allow, 5, '/a')).toEqual(Array(5).fill('ok'));
  });

  it('forgets idle buckets once they would be full again, so memory stays bounded', () => {
    const l = limiter(ONE);
    // 9,999 clients at t=0; the 10,000th insert, much later, sweeps the idle ones.
    for (let i = 0; i < 9_999; i++) l.hit('/api/x', `10.1.${i >> 8}.${i & 255}`);
    expect(l.state.buckets.size).toBe(9_999);
    l.clock.now = 10; // burst / rate = 1.5 s (+1 s of grace) have long passed
    l.hit('/api/x', '10.2.0.1');
    expect(l.state.buckets.size).toBe(1);
    // A swept client starts again with a full bucket, as it would have had anyway.
    expect(hits(l, 4, '/api/x', '10.1.0.0')).toEqual(['ok', 'ok', 'ok', '429 retry-after 1 rate_limited:api']);
  });
});
