/**
 * Rate limits: a token bucket per rule and key, `burst` tokens refilled at `rate` per second;
 * an empty bucket answers 429 with Retry-After (docs/products.md, step 3). Buckets live in this
 * process, in the module's state (the config stays frozen); idle ones are swept once they would
 * be full again.
 */

import { compileEdgePath, type EdgePath } from '../../products/edge-match.js';
import type { RateLimit } from '../../products/products-config.js';
import { CONTINUE, defineModule, type RequestView, respond } from '../module.js';

interface Bucket {
  tokens: number;
  at: number;
}

/** A limit with its `path` compiled once (absent: every path). */
interface Limit extends RateLimit {
  match?: EdgePath;
}

interface Config {
  limits: readonly Limit[];
}

/** What changes while requests run: one per pipeline. */
export interface RateLimitState {
  buckets: Map<string, Bucket>;
  inserts: number;
  /** Seconds; a clock of its own so that a test can drive it. */
  now: () => number;
}

const SWEEP_EVERY = 10_000;

function sweep(c: Config, s: RateLimitState, now: number): void {
  for (const [k, b] of s.buckets) {
    const rl = c.limits.find((l) => k.startsWith(l.id + '\0'));
    if (!rl || now - b.at > rl.burst / rl.rate + 1) s.buckets.delete(k);
  }
}

function keyOf(rl: RateLimit, r: RequestView): string | undefined {
  const v = rl.key === 'ip' ? r.remoteAddress : r.header(rl.key.slice('header:'.length));
  return v === '' ? undefined : v;
}

export const rateLimit = defineModule<Config, RateLimitState>({
  name: 'rate-limit',
  failure: 'open',
  configure: (p) => (p.rateLimits.length ? { limits: p.rateLimits.map((rl) => (rl.path ? { ...rl, match: compileEdgePath(rl.path) } : rl)) } : undefined),
  createState: () => ({ buckets: new Map(), inserts: 0, now: () => Date.now() / 1000 }),
  filter(r, c) {
    for (const rl of c.limits) if (!rl.match || rl.match.test(r.path)) return true;
    return false;
  },
  request(ctx, c, s) {
    for (const rl of c.limits) {
      if (rl.match && !rl.match.test(ctx.request.path)) continue;
      const key = keyOf(rl, ctx.request);
      if (key === undefined) {
        if (rl.missingKey === 'reject') return respond(400, `rate_limit_key:${rl.id}`, { error: 'missing_rate_limit_key', rule: rl.id });
        continue;
      }
      const now = s.now();
      const k = `${rl.id}\0${key}`;
      const b = s.buckets.get(k);
      const tokens = Math.min(rl.burst, b ? b.tokens + (now - b.at) * rl.rate : rl.burst);
      if (tokens < 1) {
        const retry = Math.max(1, Math.ceil((1 - tokens) / rl.rate));
        return respond(429, `rate_limited:${rl.id}`, { error: 'rate_limited', rule: rl.id }, { 'retry-after': String(retry) });
      }
      if (b) {
        b.tokens = tokens - 1;
        b.at = now;
      } else {
        s.buckets.set(k, { tokens: tokens - 1, at: now });
        if (++s.inserts % SWEEP_EVERY === 0) sweep(c, s, now);
      }
    }
    return CONTINUE;
  },
});
