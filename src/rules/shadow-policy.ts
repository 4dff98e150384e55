/**
 * A route's `shadow` block (docs/shadow.md): which requests are copied to the backend that did
 * not serve, and how the two answers are compared. Compiled once per rule set.
 */

import { boolean, type Check, duration, list, number, object, opt, refine, reject, section, size, string } from '../config/schema.js';
import type { ComparePolicy, PointerPattern } from '../diff/compare-policy.js';

export interface ShadowPolicy {
  /** Percent of this route's requests, 0–100 with two decimals. */
  percent: number;
  /** Target backend; undefined = the other of legacy/pipeline from the one that served. */
  to?: string;
  methods: ReadonlySet<string>;
  maxBodyBytes: number;
  timeoutMs: number;
  compare: ComparePolicy;
  /** Percent of shadowed requests also sent a second time to the serving backend, to learn noise. */
  learnNoisePercent: number;
  /** JSON paths whose values are replaced by "[redacted]" in stored samples. */
  redactJson: readonly PointerPattern[];
}

export const DEFAULT_COMPARED_HEADERS = ['content-type', 'cache-control', 'location', 'content-language', 'vary', 'www-authenticate'];
const DEFAULT_METHODS = ['GET', 'HEAD', 'OPTIONS'];

const pointer: Check<PointerPattern> = refine(string(), (value, node, ctx, path) => {
  if (value === '') return [];
  if (!value.startsWith('/')) return reject(ctx, node, path, `${JSON.stringify(value)} is not a JSON Pointer (it starts with "/")`);
  return value
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
});

const lowerName = refine(string({ nonEmpty: true }), (v) => v.toLowerCase());

export function shadowSchema(backendName: Check<string>) {
  return object({
    percent: opt(number({ min: 0, max: 100, decimals: 2 }), 100),
    to: opt(backendName),
    methods: opt(
      list(
        refine(string(), (v) => v.toUpperCase()),
        { min: 1 },
      ),
      DEFAULT_METHODS,
    ),
    max_body: opt(size({ max: 64 * 1024 * 1024 }), 1024 * 1024),
    timeout: opt(duration({ min: 1, max: 600_000 }), 2000),
    learn_noise: opt(refine(boolean(), (on) => (on ? 1 : 0)) as Check<number>),
    learn_noise_percent: opt(number({ min: 0, max: 100, decimals: 2 })),
    redact_json: opt(list(pointer), []),
    compare: opt(
      section({
        headers: opt(list(lowerName), DEFAULT_COMPARED_HEADERS),
        ignore_headers: opt(list(lowerName), []),
        ignore_json: opt(list(pointer), []),
        unordered_json: opt(list(pointer), []),
        numeric_tolerance: opt(number({ min: 0 }), 0),
      }),
    ),
  });
}

type ShadowRaw = {
  percent: number;
  to?: string;
  methods: string[];
  max_body: number;
  timeout: number;
  learn_noise?: number;
  learn_noise_percent?: number;
  redact_json: PointerPattern[];
  compare: { headers?: string[]; ignore_headers?: string[]; ignore_json?: PointerPattern[]; unordered_json?: PointerPattern[]; numeric_tolerance?: number };
};

export function compileShadow(raw: ShadowRaw): ShadowPolicy {
  const c = raw.compare;
  return {
    percent: raw.percent,
    to: raw.to,
    methods: new Set(raw.methods),
    maxBodyBytes: raw.max_body,
    timeoutMs: raw.timeout,
    // `learn_noise: true` samples 1% of shadowed requests; `learn_noise_percent` sets the rate.
    learnNoisePercent: raw.learn_noise_percent ?? raw.learn_noise ?? 0,
    redactJson: raw.redact_json,
    compare: {
      headers: c.headers ?? DEFAULT_COMPARED_HEADERS,
      ignoreHeaders: new Set(c.ignore_headers ?? []),
      ignoreJson: c.ignore_json ?? [],
      unorderedJson: c.unordered_json ?? [],
      numericTolerance: c.numeric_tolerance ?? 0,
    },
  };
}
