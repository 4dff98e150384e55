/**
 * A route's `fallback` block (docs/rules.md, docs/resilience.md): where a request goes when its
 * backend fails before any response byte reached the client, or is down. Compiled once per rule
 * set; the per-request part is gateway/forward-step.ts.
 */

import { type Check, list, number, object, oneOf, opt, refine, reject, req, size, string } from '../config/schema.js';
import { methodName } from './method-name.js';

/** Failures a fallback may take: connection refused, reset, timeouts, and 5xx answers. */
export const FALLBACK_ON = ['refused', 'reset', 'timeout', '5xx'] as const;
export type FallbackOn = (typeof FALLBACK_ON)[number];

export interface FallbackPolicy {
  /** The backend that takes the request. */
  to: string;
  on: ReadonlySet<FallbackOn>;
  /** Methods that may be sent a second time; a request never sent (backend down) goes whatever its method. */
  methods: ReadonlySet<string>;
  /** Share (0–1) of the route's requests over the last 10 s that may be retried or sent to the fallback. */
  budget: number;
  /** Retries and fallbacks always allowed per 10 s, whatever the share. */
  budgetMin: number;
  /** A body is read whole, to be sent again, up to this size or the backend's request_buffering, whichever is larger. */
  maxBodyBytes: number;
}

/** The retry budget of a route without a fallback (its backend's host retries draw from it). */
export const DEFAULT_BUDGET = { ratio: 0.2, min: 3 } as const;

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'] as const;

/** "20%" or 20: a percentage, 0–100. */
const percent: Check<number> = (raw, ctx, path) => {
  const node = raw as { value?: unknown };
  if (typeof node?.value === 'string') {
    return refine(string(), (v, n, c, p) => {
      const m = /^(\d+(?:\.\d+)?)\s*%$/.exec(v.trim());
      return m && Number(m[1]) <= 100 ? Number(m[1]) : reject(c, n, p, `${JSON.stringify(v)} is not a percentage such as "20%"`);
    })(raw, ctx, path);
  }
  return number({ min: 0, max: 100 })(raw, ctx, path);
};

export function fallbackSchema(backendName: Check<string>) {
  return object({
    to: req(backendName),
    on: opt(list(oneOf(FALLBACK_ON), { min: 1 }), [...FALLBACK_ON]),
    methods: opt(list(methodName(METHODS), { min: 1 }), ['GET', 'HEAD', 'OPTIONS']),
    budget: opt(percent, DEFAULT_BUDGET.ratio * 100),
    budget_min: opt(number({ integer: true, min: 0, max: 1_000_000 }), DEFAULT_BUDGET.min),
    max_body: opt(size({ max: 16 * 1024 * 1024 }), 64 * 1024),
  });
}

export function compileFallback(raw: {
  to: string;
  on: FallbackOn[];
  methods: string[];
  budget: number;
  budget_min: number;
  max_body: number;
}): FallbackPolicy {
  return {
    to: raw.to,
    on: new Set(raw.on),
    methods: new Set(raw.methods),
    budget: raw.budget / 100,
    budgetMin: raw.budget_min,
    maxBodyBytes: raw.max_body,
  };
}
