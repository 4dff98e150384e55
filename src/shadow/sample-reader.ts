/**
 * Reads back the mismatch samples the sample sink stored (newest first): the Redis Stream
 * `PREFIX{diffs}:samples` when the rules use Redis, else the JSONL file and its rotated FILE.1.
 * Used by `switchyard diffs samples` and the console; filters by route and by field (a JSON
 * Pointer, `status`, `header:NAME`; array indices match `*`).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { GatewayConfig } from '../config/gateway-config.js';
import { generalizeField } from '../diff/compare.js';
import { parseJsonExact } from '../diff/exact-json.js';
import type { FieldDiff } from '../diff/json-diff.js';
import { createRedisClient } from '../store/redis-client.js';

/** One side of a stored sample. */
export interface SampleAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** A stored mismatch: the request (headers redacted) and both answers, by backend name. */
export interface StoredSample {
  time: string;
  route: string;
  request_id: string;
  method: string;
  path: string;
  query: string;
  request_headers: Record<string, string | string[] | undefined>;
  diffs: FieldDiff[];
  noise: string[];
  /** The backend that served the client, and the one the copy went to (older samples lack them). */
  served?: string;
  target?: string;
  [backend: string]: unknown;
}

export interface SampleFilter {
  route?: string;
  field?: string;
  limit?: number;
}

/** How many stored entries are scanned at most to find `limit` matching ones. */
const SCAN = 2000;

export function matchesFilter(s: StoredSample, f: SampleFilter): boolean {
  if (f.route && s.route !== f.route) return false;
  if (f.field) {
    const want = generalizeField(f.field);
    if (!s.diffs?.some((d) => d.field === f.field || generalizeField(d.field) === want)) return false;
  }
  return true;
}

function parse(text: string): StoredSample | undefined {
  try {
    // Samples hold bodies' keys, which JSON.parse can get wrong on Node 24 (see exact-json.ts).
    const v = parseJsonExact(text) as StoredSample;
    return v && typeof v === 'object' && typeof v.route === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Where samples are read from, as the sink writes them, for messages. */
export function sampleSource(config: GatewayConfig): string {
  const r = config.rules.redis;
  return r ? `redis stream ${r.prefix}{diffs}:samples` : config.shadow.samples.file;
}

export async function readSamples(config: GatewayConfig, filter: SampleFilter): Promise<StoredSample[]> {
  const limit = filter.limit ?? 5;
  const out: StoredSample[] = [];
  const redis = config.rules.redis;
  if (redis) {
    const client = createRedisClient(redis, { failFast: true });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const entries = await client.xrevrange(`${redis.prefix}{diffs}:samples`, '+', '-', 'COUNT', SCAN);
      for (const [, fields] of entries) {
        const i = fields.indexOf('sample');
        const s = i >= 0 ? parse(fields[i + 1] ?? '') : undefined;
        if (s && matchesFilter(s, filter)) out.push(s);
        if (out.length >= limit) break;
      }
    } finally {
      client.disconnect();
    }
    return out;
  }
  const file = config.shadow.samples.file;
  for (const path of [file, file + '.1']) {
    if (!existsSync(path)) continue;
    const lines = readFileSync(path, 'utf8').split('\n');
    for (let i = lines.length - 1, n = 0; i >= 0 && n < SCAN && out.length < limit; i--) {
      if (!lines[i]) continue;
      n++;
      const s = parse(lines[i]!);
      if (s && matchesFilter(s, filter)) out.push(s);
    }
    if (out.length >= limit) break;
  }
  return out;
}

/** The two answers of a sample, served side first (older samples: by key order). */
export function answersOf(s: StoredSample): [string, SampleAnswer | undefined][] {
  const fixed = new Set(['time', 'route', 'request_id', 'method', 'path', 'query', 'request_headers', 'diffs', 'noise', 'served', 'target']);
  const names = s.served && s.target ? [s.served, s.target] : Object.keys(s).filter((k) => !fixed.has(k));
  return names.map((n) => [n, s[n] as SampleAnswer | undefined]);
}
