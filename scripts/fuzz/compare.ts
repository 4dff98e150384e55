/**
 * The comparison of one request's two observations (the answer, and what the origin received),
 * legacy against pipeline. It normalises only what legitimately varies between two correct HTTP
 * implementations, and reports every other difference field by field:
 *
 *   - Date and Server (the response header rules remove Server; nginx's own error pages keep it);
 *   - connection framing: Connection, Keep-Alive, Transfer-Encoding, and Content-Length when either
 *     body is not length-delimited (the bodies are compared with framing removed), 1xx interim
 *     answers, and how the connection ended after a whole answer (closed, reset, or held open:
 *     nginx lingers after some 400s); no answer within the cap is a difference;
 *   - header lines: names compared case-insensitively, repeated lines as one comma-joined value
 *     (RFC 9110 §5.3), except Set-Cookie;
 *   - JSON bodies compared as values (member order and escaping are not meaning).
 */
import type { Answer } from './exchange.js';
import type { Received } from './recording-origin.js';

export interface Observation {
  answer: Answer;
  /** What the origin received for this request. */
  received: Received[];
  /** Requests without X-Fuzz-Id the origin received meanwhile (a request smuggled in the body, say). */
  anonymous: number;
}

export interface FieldDiff {
  /** "status", "header NAME", "body", "rest", "end", "origin count", "origin header NAME", … */
  field: string;
  legacy: string;
  pipeline: string;
}

const RESPONSE_IGNORED = new Set(['date', 'server', 'connection', 'keep-alive', 'transfer-encoding']);
const UPSTREAM_IGNORED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

/** name → value, repeated lines joined with ", " (Set-Cookie lines kept apart with "\n"). */
function headerValues(lines: readonly [string, string][], ignored: ReadonlySet<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of lines) {
    if (ignored.has(name)) continue;
    const cur = out.get(name);
    out.set(name, cur === undefined ? value : `${cur}${name === 'set-cookie' ? '\n' : ', '}${value}`);
  }
  return out;
}

function canonicalJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonicalJson);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonicalJson((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** A body as compared: canonical JSON when it parses, else its bytes as Latin-1. */
function bodyText(b: Buffer): string {
  const text = b.toString('latin1');
  if (!/^\s*[[{]/.test(text)) return text;
  try {
    return JSON.stringify(canonicalJson(JSON.parse(b.toString('utf8'))));
  } catch {
    return text;
  }
}

export function show(v: string | number | undefined, max = 160): string {
  if (v === undefined) return '(none)';
  const s = JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max)}…(${s.length} chars)` : s;
}

function compareHeaders(prefix: string, a: Map<string, string>, b: Map<string, string>, out: FieldDiff[]): void {
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    if (a.get(name) !== b.get(name)) out.push({ field: `${prefix}${name}`, legacy: show(a.get(name)), pipeline: show(b.get(name)) });
  }
}

function compareAnswers(l: Answer, p: Answer, out: FieldDiff[]): void {
  if (l.status !== p.status) out.push({ field: 'status', legacy: String(l.status), pipeline: String(p.status) });
  if ((l.end === 'timeout') !== (p.end === 'timeout')) out.push({ field: 'end', legacy: l.end, pipeline: p.end });
  const delimited = (a: Answer) => a.framing === 'length' || a.framing === 'none';
  const ignored = delimited(l) && delimited(p) ? RESPONSE_IGNORED : new Set([...RESPONSE_IGNORED, 'content-length']);
  compareHeaders('header ', headerValues(l.headers, ignored), headerValues(p.headers, ignored), out);
  const lb = bodyText(l.body);
  const pb = bodyText(p.body);
  if (lb !== pb) out.push({ field: 'body', legacy: show(lb), pipeline: show(pb) });
  if (l.rest !== p.rest) out.push({ field: 'rest', legacy: show(l.rest), pipeline: show(p.rest) });
}

function compareReceived(l: Received, p: Received, prefix: string, out: FieldDiff[]): void {
  if (l.method !== p.method) out.push({ field: `${prefix}method`, legacy: show(l.method), pipeline: show(p.method) });
  if (l.target !== p.target) out.push({ field: `${prefix}target`, legacy: show(l.target), pipeline: show(p.target) });
  compareHeaders(`${prefix}header `, headerValues(l.headers, UPSTREAM_IGNORED), headerValues(p.headers, UPSTREAM_IGNORED), out);
  if (l.bodySha256 !== p.bodySha256)
    out.push({ field: `${prefix}body`, legacy: `${l.bodyBytes} bytes ${l.bodySha256}`, pipeline: `${p.bodyBytes} bytes ${p.bodySha256}` });
}

/** Every difference between the two observations of one request; empty when they agree. */
export function compareObservations(legacy: Observation, pipeline: Observation): FieldDiff[] {
  const out: FieldDiff[] = [];
  compareAnswers(legacy.answer, pipeline.answer, out);
  if (legacy.received.length !== pipeline.received.length) {
    out.push({ field: 'origin count', legacy: String(legacy.received.length), pipeline: String(pipeline.received.length) });
  }
  if (legacy.anonymous !== pipeline.anonymous) out.push({ field: 'origin anonymous', legacy: String(legacy.anonymous), pipeline: String(pipeline.anonymous) });
  const both = Math.min(legacy.received.length, pipeline.received.length);
  for (let i = 0; i < both; i++) compareReceived(legacy.received[i]!, pipeline.received[i]!, both > 1 ? `origin[${i}] ` : 'origin ', out);
  return out;
}
