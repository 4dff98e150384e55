/**
 * The comparer: a pure function from two captured responses and a route's policy to a verdict.
 * Status, the compared headers, and the bodies: JSON structurally, text by lines, anything else
 * by length and hash; gzip, br and deflate are decoded first. Fields known to be noise for the
 * route are reported as noise and kept out of the mismatch. It never calls two different bodies
 * equal: JSON numbers are exact decimals, and a body that is not valid UTF-8 is compared by its
 * bytes, since decoding would turn different bytes into the same U+FFFD.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import type { ComparePolicy } from './compare-policy.js';
import { parseJsonExact } from './exact-json.js';
import { diffJson, type FieldDiff } from './json-diff.js';
import { lineChanges } from './line-diff.js';

export type { FieldDiff };

export interface CapturedResponse {
  status: number;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer;
  /** More than the configured max_body arrived; `body` holds only the first part. */
  truncated: boolean;
}

export type ComparisonResult = 'match' | 'mismatch' | 'noise' | 'skipped';

export interface Comparison {
  result: ComparisonResult;
  /** Why the comparison was skipped. */
  reason?: string;
  /** Differences that count (not noise). */
  diffs: FieldDiff[];
  /** Differences in fields known to be noise for this route. */
  noise: FieldDiff[];
}

const MAX_DIFFS = 50;
const MAX_DECODED = 16 * 1024 * 1024;
/** Changed lines of a text body shown per side. */
const MAX_LINES = 10;

/** The field name used for noise and metrics: JSON array indices become `*`. */
export function generalizeField(field: string): string {
  return field.startsWith('/') ? field.replace(/\/\d+(?=\/|$)/g, '/*') : field;
}

function headerText(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

/** Undoes Content-Encoding; undefined when the body cannot be decoded. */
export function decodeBody(body: Buffer, encoding: string | undefined, maxBytes = MAX_DECODED): Buffer | undefined {
  const enc = (encoding ?? '').trim().toLowerCase();
  const opts = { maxOutputLength: maxBytes };
  try {
    if (enc === '' || enc === 'identity') return body;
    if (enc === 'gzip' || enc === 'x-gzip') return gunzipSync(body, opts);
    if (enc === 'br') return brotliDecompressSync(body, opts);
    if (enc === 'deflate') {
      try {
        return inflateSync(body, opts);
      } catch {
        return inflateRawSync(body, opts); // some servers send raw deflate
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

type Parsed = { kind: 'json'; value: unknown } | { kind: 'text'; text: string } | { kind: 'binary' };

function isJsonType(ct: string): boolean {
  return /[/+]json\b/i.test(ct);
}

function isTextType(ct: string): boolean {
  return /^text\/|[/+](xml|javascript|x-www-form-urlencoded|html)\b/i.test(ct);
}

function parse(ct: string, body: Buffer): Parsed {
  if (!isUtf8(body)) return { kind: 'binary' };
  if (isJsonType(ct) || (!ct && /^\s*[[{]/.test(body.subarray(0, 64).toString('latin1')))) {
    try {
      return { kind: 'json', value: parseJsonExact(body.toString('utf8')) };
    } catch {
      /* not JSON after all: compare as text */
    }
  }
  if (isTextType(ct) || isJsonType(ct) || (!ct && !body.includes(0))) return { kind: 'text', text: body.toString('utf8') };
  return { kind: 'binary' };
}

/** The changed lines of one side, with a last line saying how many more there are. */
function shownLines(lines: string[], count: number): string {
  return count > lines.length ? [...lines, `… ${count - lines.length} more lines`].join('\n') : lines.join('\n');
}

function digest(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex').slice(0, 16);
}

function diffBodies(a: CapturedResponse, b: CapturedResponse, policy: ComparePolicy): FieldDiff[] | string {
  const da = decodeBody(a.body, headerText(a.headers['content-encoding']));
  const db = decodeBody(b.body, headerText(b.headers['content-encoding']));
  if (!da || !db) return 'undecodable_body';
  const cta = headerText(a.headers['content-type']) ?? '';
  const ctb = headerText(b.headers['content-type']) ?? '';
  // The same bytes read the same way are the same value: most shadowed answers stop here.
  if (cta === ctb && da.equals(db)) return [];
  const pa = parse(cta, da);
  const pb = parse(ctb, db);
  if (pa.kind === 'json' && pb.kind === 'json') {
    return diffJson(pa.value, pb.value, {
      ignore: policy.ignoreJson,
      unordered: policy.unorderedJson,
      numericTolerance: policy.numericTolerance,
      limit: MAX_DIFFS,
    });
  }
  if (pa.kind === 'text' && pb.kind === 'text') {
    const c = lineChanges(pa.text, pb.text, MAX_LINES);
    return c ? [{ field: 'body', kind: 'changed', a: shownLines(c.removed, c.removedCount), b: shownLines(c.added, c.addedCount) }] : [];
  }
  if (pa.kind !== pb.kind) return [{ field: 'body', kind: 'type', a: pa.kind, b: pb.kind }];
  if (da.equals(db)) return [];
  return [{ field: 'body', kind: 'changed', a: `${da.length} bytes, sha256 ${digest(da)}`, b: `${db.length} bytes, sha256 ${digest(db)}` }];
}

/**
 * Compares the serving backend's response `a` with the shadow's `b`.
 * `isNoise` says whether a (generalized) field is known noise for the route.
 */
export function compareResponses(a: CapturedResponse, b: CapturedResponse, policy: ComparePolicy, isNoise: (field: string) => boolean = () => false): Comparison {
  if (a.truncated || b.truncated) return { result: 'skipped', reason: 'body_too_large', diffs: [], noise: [] };
  const all: FieldDiff[] = [];
  if (a.status !== b.status) all.push({ field: 'status', kind: 'changed', a: a.status, b: b.status });
  for (const name of policy.headers) {
    if (policy.ignoreHeaders.has(name)) continue;
    const x = headerText(a.headers[name]);
    const y = headerText(b.headers[name]);
    if (x === y) continue;
    all.push({ field: `header:${name}`, kind: x === undefined ? 'added' : y === undefined ? 'removed' : 'changed', a: x, b: y });
  }
  const body = diffBodies(a, b, policy);
  if (typeof body === 'string') return { result: 'skipped', reason: body, diffs: [], noise: [] };
  all.push(...body);
  return withNoise({ result: all.length ? 'mismatch' : 'match', diffs: all, noise: [] }, isNoise);
}

/**
 * Sorts the differences of a comparison made without noise knowledge into those that count and
 * the noise. What `compareResponses` does with its `isNoise`; apart so that a comparison made
 * elsewhere (a worker thread, src/shadow/compare-pool.ts) meets the route's noise on the main thread.
 */
export function withNoise(c: Comparison, isNoise: (field: string) => boolean): Comparison {
  if (c.result === 'skipped') return c;
  const diffs: FieldDiff[] = [];
  const noise: FieldDiff[] = [];
  for (const d of [...c.diffs, ...c.noise]) (isNoise(generalizeField(d.field)) ? noise : diffs).push(d);
  const result: ComparisonResult = diffs.length ? 'mismatch' : noise.length ? 'noise' : 'match';
  return { result, diffs, noise };
}
