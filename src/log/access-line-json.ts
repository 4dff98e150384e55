/**
 * The access line's JSON, written by hand for its fixed shape: the fields in one order, numbers
 * as `String(n)` (a non-finite one as `null`, as pino does), strings escaped as JSON.stringify
 * escapes them. pino's generic path walks the object's keys, checks serializers and formatters
 * per key and stringifies each value through a lookup; for a line written per request that is
 * most of the log step's cost (issue 14: measured in scripts/bench-access-log.ts).
 */

/** The fields of one access line; what does not apply to an exchange is left out. */
export interface AccessLine {
  request_id?: string;
  /** The W3C trace id the backends saw (docs/lifecycle.md, "Trace context"). */
  trace_id?: string;
  method?: string;
  /** "HTTP/1.1", "HTTP/1.0" or "HTTP/2.0": what the client spoke (the gateway only). */
  protocol?: string;
  path?: string;
  /** The gateway only: the matched route and the backend that served ("-" when refused before deciding). */
  route?: string;
  backend?: string;
  placement?: string;
  /** The gateway only: the copy's target, "dropped", "skipped:REASON" or "none". */
  shadow?: string;
  /** The gateway only: why the route's fallback served (refused, reset, timeout, 5xx, down), or "skipped:WHY". */
  fallback?: string;
  /** The gateway only: the backend that failed, when the fallback served. */
  fallback_from?: string;
  status: number;
  /** Absent when the start of the exchange is unknown (a request Node's parser refused). */
  duration_ms?: number;
  bytes_in: number;
  bytes_out: number;
  /** Why the answer was made locally instead of by the origin (`waf:1001`, `redirect:old-docs`, …). */
  reply?: string;
  /** The catalogue reason of a failed exchange (docs/errors.md). */
  error?: string;
  cause?: string;
}

/**
 * What JSON must escape: quotes, backslashes, control characters, and any surrogate (a lone one
 * becomes `\udXXX` in well-formed JSON.stringify; a valid pair is rare enough in a path or id to
 * take the slow path too).
 */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Below this length a loop over the characters is cheaper than a call of RegExp.prototype.test (callgrind). */
const SHORT = 24;

/** Whether `s` goes into JSON between quotes as it is. */
function plain(s: string): boolean {
  if (s.length >= SHORT) return !NEEDS_ESCAPE.test(s);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

/** A JSON string literal: the string as is between quotes when nothing needs escaping (the usual case). */
export function jsonString(s: string): string {
  return plain(s) ? '"' + s + '"' : JSON.stringify(s);
}

/**
 * `,"key":` and the string's JSON literal: `open` is `,"key":"`, so that the usual case (nothing
 * to escape) costs two concatenations instead of three.
 */
function field(open: string, s: string): string {
  return plain(s) ? open + s + '"' : open.slice(0, -1) + JSON.stringify(s);
}

function num(n: number): string {
  return Number.isFinite(n) ? '' + n : 'null';
}

/** The text after the whole milliseconds for each number of microseconds 0–999: "", ".5", ".05", ".005", ".123", … */
const FRACTION: readonly string[] = Array.from({ length: 1000 }, (_, us) => (us === 0 ? '' : `.${String(us).padStart(3, '0').replace(/0+$/, '')}`));

/**
 * `num(ms)` for a duration of microsecond precision (durationMs), written from its integer parts:
 * the same text (below 10^15 microseconds the decimal has at most 15 significant digits, so the
 * shortest decimal that reads back as the same double is that decimal, less its trailing zeros),
 * without the shortest-double conversion per line; the part after the point comes from a table
 * (the arithmetic and concatenations that built it were 0.7 % of the gateway's CPU under load,
 * `perf` in issue 14's note). Anything else takes `num`.
 */
export function durationText(ms: number): string {
  const us = Math.round(ms * 1000);
  if (us / 1000 !== ms || us < 0 || us >= 1e15) return num(ms);
  const whole = Math.floor(us / 1000);
  return whole + FRACTION[us - whole * 1000]!;
}

/**
 * `,"key":"value"` for the fields whose values repeat from line to line (the method, the route,
 * the backend, the placement, …): built once per value and kept as one flat string, so that a
 * line is a few long pieces instead of three short ones per field, and its usual fields are
 * never checked for escapes twice. Bounded: past `MAX_CACHED` values (a field fed by something
 * that never repeats) a value is serialized as any other.
 */
class FieldCache {
  private readonly known = new Map<string, string>();

  constructor(private readonly open: string) {}

  text(s: string): string {
    let t = this.known.get(s);
    if (t === undefined) {
      t = field(this.open, s);
      if (this.known.size < MAX_CACHED) {
        // A flat copy: the cached text is written once per line, for as long as the process runs.
        t = Buffer.from(t).toString();
        this.known.set(s, t);
      }
    }
    return t;
  }
}

const MAX_CACHED = 1024;
const METHOD = new FieldCache(',"method":"');
const PROTOCOL = new FieldCache(',"protocol":"');
const ROUTE = new FieldCache(',"route":"');
const BACKEND = new FieldCache(',"backend":"');
const PLACEMENT = new FieldCache(',"placement":"');
const SHADOW = new FieldCache(',"shadow":"');
const FALLBACK = new FieldCache(',"fallback":"');
const FALLBACK_FROM = new FieldCache(',"fallback_from":"');
const REPLY = new FieldCache(',"reply":"');
const ERROR = new FieldCache(',"error":"');

/** `,"status":N` for the integer statuses 0–999, built on first use. */
const STATUS: string[] = [];

function statusText(n: number): string {
  if (n >= 0 && n < 1000 && Math.floor(n) === n) return (STATUS[n] ??= ',"status":' + n);
  return ',"status":' + num(n);
}

/**
 * The fields of a line, each `,"key":value`, in the order of AccessLine; absent fields are left
 * out. The caller puts the level, time and bindings before and `}` after. The fields that vary
 * per exchange (ids, path, duration, byte counts, cause) are serialized each time; the others
 * come from FieldCache.
 */
export function accessFieldsJson(l: AccessLine): string {
  let s = '';
  if (l.request_id !== undefined) s += field(',"request_id":"', l.request_id);
  if (l.trace_id !== undefined) s += field(',"trace_id":"', l.trace_id);
  if (l.method !== undefined) s += METHOD.text(l.method);
  if (l.protocol !== undefined) s += PROTOCOL.text(l.protocol);
  if (l.path !== undefined) s += field(',"path":"', l.path);
  if (l.route !== undefined) s += ROUTE.text(l.route);
  if (l.backend !== undefined) s += BACKEND.text(l.backend);
  if (l.placement !== undefined) s += PLACEMENT.text(l.placement);
  if (l.shadow !== undefined) s += SHADOW.text(l.shadow);
  if (l.fallback !== undefined) s += FALLBACK.text(l.fallback);
  if (l.fallback_from !== undefined) s += FALLBACK_FROM.text(l.fallback_from);
  s += statusText(l.status);
  if (l.duration_ms !== undefined) s += ',"duration_ms":' + durationText(l.duration_ms);
  s += ',"bytes_in":' + num(l.bytes_in) + ',"bytes_out":' + num(l.bytes_out);
  if (l.reply !== undefined) s += REPLY.text(l.reply);
  if (l.error !== undefined) s += ERROR.text(l.error);
  if (l.cause !== undefined) s += field(',"cause":"', l.cause);
  return s;
}

/**
 * The ISO time of `pino.stdTimeFunctions.isoTime`, between a fixed text before and after it (the
 * access line's level and bindings). The date and time up to the second are formatted once per
 * second (V8's toISOString goes through snprintf: under callgrind it was about 7k instructions,
 * a fifth of the access line's cost, whenever a request fell in a new millisecond, which is every
 * request below about 1,000 req/s); the milliseconds are appended, and the whole text is kept
 * for the millisecond.
 */
export class IsoTimeCache {
  private ms = -1;
  private text = '';
  private second = Number.NaN;
  /** `before` and `,"time":"YYYY-MM-DDTHH:MM:SS.` of `second`. */
  private prefix = '';

  constructor(
    private readonly before = '',
    private readonly after = '',
  ) {}

  /** `before`, `,"time":"…"` for `ms` since the epoch, then `after` (the same string for the same millisecond). */
  at(ms: number): string {
    if (ms !== this.ms) {
      this.ms = ms;
      const second = Math.floor(ms / 1000);
      if (second !== this.second) {
        this.second = second;
        const iso = new Date(second * 1000).toISOString();
        // "….000Z": everything before the milliseconds (also for years past 9999, "+YYYYYY-…").
        this.prefix = this.before + ',"time":"' + iso.slice(0, iso.length - 4);
      }
      const frac = ms - second * 1000;
      this.text = this.prefix + (frac < 10 ? '00' : frac < 100 ? '0' : '') + frac + 'Z"' + this.after;
    }
    return this.text;
  }
}
