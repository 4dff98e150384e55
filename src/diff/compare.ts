/**
 * The comparer: a pure function from two captured responses and a route's policy to a verdict.
 * Status, the compared headers, and the bodies: JSON structurally, text by lines, anything else
 * by length and hash; gzip, br and deflate are decoded first. Fields known to be noise for the
 * route are reported as noise and kept out of the mismatch.
 */
import { createHash } from 'node:crypto';
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import type { ComparePolicy } from './compare-policy.js';
import { diffJson, type FieldDiff } from './json-diff.js';
import { diffLines } from './line-diff.js';

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

type Parsed = { kind: 'json'; value: unknown } | { kind: 'text'; lines: string[] } | { kind: 'binary'; body: Buffer };

function isJsonType(ct: string): boolean {
  return /[/+]json\b/i.test(ct);
}

function isTextType(ct: string): boolean {
  return /^text\/|[/+](xml|javascript|x-www-form-urlencoded|html)\b/i.test(ct);
}

function parse(r: CapturedResponse, body: Buffer): Parsed {
  const ct = headerText(r.headers['content-type']) ?? '';
  if (isJsonType(ct) || (!ct && /^\s*[[{]/.test(body.subarray(0, 64).toString('latin1')))) {
    try {
      return { kind: 'json', value: JSON.parse(body.toString('utf8')) };
    } catch {
      /* not JSON after all: compare as text */
    }
  }
  if (isTextType(ct) || isJsonType(ct) || (!ct && !body.includes(0))) return { kind: 'text', lines: body.toString('utf8').split('\n') };
  return { kind: 'binary', body };
}

function digest(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex').slice(0, 16);
}

function diffBodies(a: CapturedResponse, b: CapturedResponse, policy: ComparePolicy): FieldDiff[] | string {
  const da = decodeBody(a.body, headerText(a.headers['content-encoding']));
  const db = decodeBody(b.body, headerText(b.headers['content-encoding']));
  if (!da || !db) return 'undecodable_body';
  const pa = parse(a, da);
  const pb = parse(b, db);
  if (pa.kind === 'json' && pb.kind === 'json') {
    return diffJson(pa.value, pb.value, {
      ignore: policy.ignoreJson,
      unordered: policy.unorderedJson,
      numericTolerance: policy.numericTolerance,
      limit: MAX_DIFFS,
    });
  }
  if (pa.kind === 'text' && pb.kind === 'text') {
    const edits = diffLines(pa.lines, pb.lines, 2000);
    if (!edits) return [{ field: 'body', kind: 'changed', a: `${pa.lines.length} lines`, b: `${pb.lines.length} lines (too different to list)` }];
    const changed = edits.filter((e) => e.op !== ' ');
    if (changed.length === 0) return [];
    const removed = changed.filter((e) => e.op === '-').map((e) => e.line);
    const added = changed.filter((e) => e.op === '+').map((e) => e.line);
    return [{ field: 'body', kind: 'changed', a: removed.slice(0, 10).join('\n'), b: added.slice(0, 10).join('\n') }];
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
  const diffs: FieldDiff[] = [];
  const noise: FieldDiff[] = [];
  for (const d of all) (isNoise(generalizeField(d.field)) ? noise : diffs).push(d);
  const result: ComparisonResult = diffs.length ? 'mismatch' : noise.length ? 'noise' : 'match';
  return { result, diffs, noise };
}
