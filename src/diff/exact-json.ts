/**
 * JSON.parse that keeps every number exact (issue 12, "diff truth"). JSON.parse turns
 * 9007199254740993 into 9007199254740992 and 12345678901234567891 into ...67000, so the comparer
 * would call different IDs equal. The reviver's `context.source` (Node >= 22) would give the
 * digits, but a reviver call per value costs more than this, and the reviver sees the keys
 * JSON.parse got wrong (below).
 *
 * Two paths, one result:
 * - A text in which no number can be inexact (the common case) goes to the native JSON.parse.
 *   The test is a regular-expression scan of the text: without a run of 16 digits-or-dots and
 *   without a 3-digit exponent, every number has at most 15 significant digits and a magnitude
 *   between 1e-114 and 1e114. Such a decimal survives the round trip through a double, and
 *   String() of that double spells the same decimal (DBL_DIG = 15: two distinct decimals of 15
 *   digits never round to one double in the normal range), so the double is exact. Digits inside
 *   strings only send a text to the slower path, never the other way.
 * - Otherwise this small tokenizer parses it, with JSON.parse's grammar and semantics (last
 *   duplicate key wins, `__proto__` is an own key), keeping each number as a JS number when the
 *   double spells the same decimal, and as an ExactNumber (its source text) when it does not.
 * - A text with an escaped object key (`{"\u007E":1}`, `{"a\n":1}`) also takes the tokenizer: V8's
 *   JSON.parse on Node 24 (V8 13.6, and 14.6 on Node 26) can return another key for it, one it
 *   parsed before (`{"\\":0}` then `{"\u007E":1}` gives the key `\`): nodejs/node#63785,
 *   https://issues.chromium.org/issues/521080746, open. The property test of the comparer found it
 *   as two spellings of one object reported as different keys. Escaped values are not affected.
 * Why not `lossless-json`: it throws on duplicate keys where JSON.parse keeps the last, wraps
 *   every number in an object, and would put a pure-JS parse on every shadowed body; here the
 *   native parser still does nearly all of the work. Measured by scripts/bench-diff.ts.
 */
import { type Decimal, decimalKey, parseDecimal } from './decimal.js';

/** A JSON number that no JS number holds exactly, kept as written. Serializes as a string of its digits. */
export class ExactNumber {
  private dec: Decimal | undefined;
  constructor(readonly source: string) {}
  get decimal(): Decimal {
    return (this.dec ??= parseDecimal(this.source));
  }
  toString(): string {
    return this.source;
  }
  toJSON(): string {
    return this.source;
  }
}

export type JsonNumber = number | ExactNumber;

// A mantissa of 16 digits and dots holds a run of 8 digits (a number has one dot at most), so
// the cheap test goes first. Written out, not as \d{8}: V8 then skips through the text instead
// of trying every position (1 KiB: 0.2 µs against 1.5 µs, and 5 µs for [\d.]{16}).
const EIGHT_DIGITS = /\d\d\d\d\d\d\d\d/;
const LONG_MANTISSA = /[\d.]{16}/;
const LONG_EXPONENT = /[eE][+-]?\d\d\d/;
const SAFE_TOKEN = /^-?[\d.]{1,15}(?:[eE][+-]?\d{1,2})?$/;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const PLAIN_STRING = /"[^"\\\u0000-\u001f]*"/y;
// An escaped key: the key's last escape, then plain characters to its closing quote, then the
// colon. Every key with an escape matches at its last escape; a match elsewhere only costs the
// slower path. Linear: `[^"\\]*` stops at the next quote or backslash.
const ESCAPED_KEY = /\\.[^"\\]*"[\t\n\r ]*:/;

/** Parses JSON like JSON.parse, but a number a double cannot hold comes back as an ExactNumber. */
export function parseJsonExact(text: string): unknown {
  const maybeInexact = (EIGHT_DIGITS.test(text) && LONG_MANTISSA.test(text)) || LONG_EXPONENT.test(text);
  return maybeInexact || hasEscapedKey(text) ? parseTokens(text) : JSON.parse(text);
}

/** True when JSON.parse could return a wrong key for `text` (see above); false positives are allowed. */
export function hasEscapedKey(text: string): boolean {
  return text.includes('\\') && ESCAPED_KEY.test(text);
}

function numberOf(src: string): JsonNumber {
  const n = Number(src);
  // The double spells this very decimal, or the token is short enough to be exact (see above).
  if (String(n) === src || SAFE_TOKEN.test(src)) return n;
  return Number.isFinite(n) && decimalKey(parseDecimal(String(n))) === decimalKey(parseDecimal(src)) ? n : new ExactNumber(src);
}

interface Frame {
  container: unknown[] | Record<string, unknown>;
  key: string;
}

/** Iterative, so that nesting depth is bounded by memory, as with JSON.parse, not by the stack. */
function parseTokens(text: string): unknown {
  let pos = 0;
  const fail = (): never => {
    throw new SyntaxError(`invalid JSON near position ${pos}`);
  };
  const ws = (): void => {
    for (let c = text.charCodeAt(pos); c === 32 || c === 10 || c === 13 || c === 9; c = text.charCodeAt(++pos));
  };
  const string = (): string => {
    PLAIN_STRING.lastIndex = pos;
    if (PLAIN_STRING.test(text)) {
      const start = pos + 1;
      pos = PLAIN_STRING.lastIndex;
      return text.slice(start, pos - 1);
    }
    // Escapes (or a raw control character, which the native parser refuses).
    if (text.charCodeAt(pos) !== 34) fail();
    let q = pos;
    for (;;) {
      q = text.indexOf('"', q + 1);
      if (q < 0) fail();
      let k = q - 1;
      while (text.charCodeAt(k) === 92) k--;
      if ((q - 1 - k) % 2 === 0) break; // not escaped: an even run of backslashes before it
    }
    const raw = text.slice(pos, q + 1);
    pos = q + 1;
    return JSON.parse(raw) as string;
  };
  const key = (f: Frame): void => {
    ws();
    f.key = string();
    ws();
    if (text.charCodeAt(pos++) !== 58) fail();
  };
  const stack: Frame[] = [];
  for (;;) {
    ws();
    let value: unknown;
    const c = text.charCodeAt(pos);
    if (c === 123 || c === 91) {
      pos++;
      const frame: Frame = { container: c === 91 ? [] : {}, key: '' };
      ws();
      if (text.charCodeAt(pos) === c + 2) {
        pos++; // `[]` or `{}`: ']' and '}' are two code points after '[' and '{'
        value = frame.container;
      } else {
        stack.push(frame);
        if (c === 123) key(frame);
        continue;
      }
    } else if (c === 34) value = string();
    else if (text.startsWith('true', pos)) {
      value = true;
      pos += 4;
    } else if (text.startsWith('false', pos)) {
      value = false;
      pos += 5;
    } else if (text.startsWith('null', pos)) {
      value = null;
      pos += 4;
    } else {
      NUMBER.lastIndex = pos;
      const m = NUMBER.exec(text) ?? fail();
      value = numberOf(m[0]);
      pos = NUMBER.lastIndex;
    }
    // Hand the value to its container, closing every container that ends here.
    for (;;) {
      const f = stack[stack.length - 1];
      if (!f) {
        ws();
        return pos === text.length ? value : fail();
      }
      if (Array.isArray(f.container)) f.container.push(value);
      else if (f.key === '__proto__') Object.defineProperty(f.container, f.key, { value, writable: true, enumerable: true, configurable: true });
      else f.container[f.key] = value;
      ws();
      const d = text.charCodeAt(pos++);
      if (d === 44) {
        if (!Array.isArray(f.container)) key(f);
        break;
      }
      if (d !== (Array.isArray(f.container) ? 93 : 125)) fail();
      stack.pop();
      value = f.container;
    }
  }
}

/** `value` with each ExactNumber replaced by a string of its digits, for reports and samples; `value` itself when it holds none. */
export function toPlainJson(value: unknown): unknown {
  if (value instanceof ExactNumber) return value.source;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const p = toPlainJson(value[i]);
      if (p !== value[i]) (out ??= value.slice())[i] = p;
    }
    return out ?? value;
  }
  if (value && typeof value === 'object') {
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      const p = toPlainJson(v);
      if (p !== v) (out ??= { ...value })[k] = p;
    }
    return out ?? value;
  }
  return value;
}
