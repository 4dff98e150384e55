/**
 * The upstream side of HTTP/1.1, as pure functions: reading a response's head, deciding how its
 * body is framed (RFC 9112 §6.3), and decoding a chunked body. Used by the gateway's own
 * HTTP/1.1 client (forward/h1-pool.ts).
 *
 * Strict where a lenient reading could let one response be read as two (response splitting
 * towards the client, a desynchronised keep-alive connection): CR LF line ends only, no obs-fold,
 * no whitespace before a header's colon, one Content-Length or several equal ones, never with
 * Transfer-Encoding; header names are tokens and values hold only what node:http will write back
 * (HTAB, SP, VCHAR, obs-text), so that passing a response on can never throw. Anything else is a
 * `ResponseError` (502 SWY_ERR_UPSTREAM_BAD_RESPONSE).
 *
 * Hand-written rather than undici's llhttp: this and h1-pool.ts halve what the upstream exchange
 * costs per request (issue 14, scripts/bench `switchyard` against `undici`).
 */
import { ERRORS } from '../errors.js';
import { headerKey, INVALID_VALUE } from '../util/http-syntax.js';

/** A response the client cannot make sense of; `code` is the catalogue's. */
export class ResponseError extends Error {
  readonly code = ERRORS.UPSTREAM_BAD_RESPONSE.code;
}

export interface ResponseHead {
  status: number;
  statusText: string;
  /** HTTP/1.0 (keep-alive only when asked for). */
  http10: boolean;
  /** Lower-cased names; a repeated header is an array, in order. */
  headers: Record<string, string | string[]>;
}

/** Longest response head accepted, as node:http's default `--max-http-header-size`. */
export const MAX_HEAD_BYTES = 16 * 1024;

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: |$)/;

/**
 * The headers object of a response: no prototype members (a header named `__proto__` or
 * `constructor` is a header like any other), yet V8's fast properties. An object made with
 * `{ __proto__: null }` or Object.create(null) starts as a dictionary, and every header stored
 * in it, and every walk over it (the forwarder copies it), goes through V8's slow paths.
 * node:http builds `req.headers` the same way.
 */
const HeaderFields = function HeaderFields() {} as unknown as { new (): Record<string, string | string[]>; prototype: object };
HeaderFields.prototype = Object.create(null);

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * Parses a response head: `text` is its bytes as latin1, without the blank line that ends it.
 * Throws a ResponseError when it is not a valid HTTP/1.x response head.
 */
export function parseResponseHead(text: string): ResponseHead {
  let eol = text.indexOf('\r\n');
  if (eol < 0) eol = text.length;
  const line = text.slice(0, eol);
  const m = STATUS_LINE.exec(line);
  if (!m) throw new ResponseError('the upstream sent an invalid status line');
  const statusText = line.slice(13);
  if (INVALID_VALUE.test(statusText)) throw new ResponseError('the upstream sent an invalid reason phrase');
  const headers = new HeaderFields();
  let at = eol + 2;
  while (at < text.length) {
    let end = text.indexOf('\r\n', at);
    if (end < 0) end = text.length;
    const colon = text.indexOf(':', at);
    if (colon < 0 || colon > end) throw new ResponseError('the upstream sent a header line without a colon');
    // Also refuses obs-fold (a line starting with whitespace) and whitespace before the colon.
    const key = headerKey(text.slice(at, colon));
    if (key === undefined) throw new ResponseError('the upstream sent an invalid header name');
    let from = colon + 1;
    let to = end;
    while (from < to && isOws(text.charCodeAt(from))) from++;
    while (to > from && isOws(text.charCodeAt(to - 1))) to--;
    const value = text.slice(from, to);
    // Also refuses a bare CR or LF inside the line.
    if (INVALID_VALUE.test(value)) throw new ResponseError('the upstream sent an invalid header value');
    const seen = headers[key];
    if (seen === undefined) headers[key] = value;
    else if (typeof seen === 'string') headers[key] = [seen, value];
    else seen.push(value);
    at = end + 2;
  }
  return { status: Number(m[2]), statusText, http10: m[1] === '0', headers };
}

/** How a response body ends: not at all, after `length` bytes, with its last chunk, or when the connection closes. */
export type BodyFraming = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

const NONE: BodyFraming = Object.freeze({ kind: 'none' });
const CHUNKED: BodyFraming = Object.freeze({ kind: 'chunked' });
const CLOSE: BodyFraming = Object.freeze({ kind: 'close' });

/**
 * RFC 9112 §6.3: how the body of a final response (status ≥ 200) to `method` is framed. A
 * Content-Length given more than once (equal values, as RFC 9110 §8.6 allows) is made one value
 * in `head.headers`, so that what is passed on is read the same way by any client.
 */
export function bodyFraming(method: string, head: ResponseHead): BodyFraming {
  const { status, headers } = head;
  const te = headers['transfer-encoding'];
  const cl = headers['content-length'];
  if (te !== undefined && cl !== undefined) throw new ResponseError('the upstream sent both Content-Length and Transfer-Encoding');
  let length = 0;
  if (cl !== undefined) {
    length = contentLength(cl);
    if (typeof cl !== 'string' || cl.includes(',')) headers['content-length'] = String(length);
  }
  if (method === 'HEAD' || status === 204 || status === 304) return NONE;
  if (te !== undefined) {
    const codings = (typeof te === 'string' ? te : te.join(',')).split(',');
    const last = codings[codings.length - 1]!.trim().toLowerCase();
    if (last !== 'chunked') return CLOSE;
    if (codings.some((c, i) => i < codings.length - 1 && c.trim().toLowerCase() === 'chunked')) {
      throw new ResponseError('the upstream applied chunked twice');
    }
    return CHUNKED;
  }
  if (cl !== undefined) return { kind: 'length', length };
  return CLOSE;
}

const DIGITS = /^\d{1,15}$/;

/** One length, from one or several Content-Length values that must all agree (RFC 9110 §8.6). */
function contentLength(cl: string | string[]): number {
  if (typeof cl === 'string' && DIGITS.test(cl)) return Number(cl);
  const values = (typeof cl === 'string' ? cl : cl.join(',')).split(',');
  const first = values[0]!.trim();
  for (const v of values) {
    const t = v.trim();
    if (!DIGITS.test(t) || t !== first) throw new ResponseError('the upstream sent an invalid Content-Length');
  }
  return Number(first);
}

/** Whether the connection may carry another request after this response (RFC 9112 §9.3). */
export function keepsAlive(head: ResponseHead): boolean {
  const c = head.headers.connection;
  // An HTTP/1.0 message with Transfer-Encoding: the connection is closed after it (RFC 9112 §6.1).
  if (head.http10 && head.headers['transfer-encoding'] !== undefined) return false;
  if (c === undefined) return !head.http10;
  const tokens = (typeof c === 'string' ? c : c.join(',')).toLowerCase().split(',');
  let keepAlive = false;
  for (const t of tokens) {
    const token = t.trim();
    if (token === 'close') return false;
    if (token === 'keep-alive') keepAlive = true;
  }
  return !head.http10 || keepAlive;
}

const KEEP_ALIVE_TIMEOUT = /(?:^|[,;\s])timeout=(\d{1,9})/i;

/** The `Keep-Alive: timeout=N` hint, in milliseconds; undefined when the response gives none. */
export function keepAliveHintMs(head: ResponseHead): number | undefined {
  const k = head.headers['keep-alive'];
  if (k === undefined) return undefined;
  const m = KEEP_ALIVE_TIMEOUT.exec(typeof k === 'string' ? k : k.join(','));
  return m ? Number(m[1]) * 1000 : undefined;
}

/** The longest chunk-size line (with extensions) and trailer section accepted. */
const MAX_CHUNK_LINE = 4096;

enum State {
  Size,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  Trailer,
  TrailerLf,
  Done,
}

/**
 * Decodes a chunked body as it arrives, split anywhere: `push` returns the data bytes in a chunk
 * of the wire (views of it, no copy) and the index just past the body's end once the last chunk
 * and its trailer section are read (else -1). Trailers are read and dropped. Throws ResponseError
 * on anything that is not chunked encoding.
 */
export class ChunkedDecoder {
  private state = State.Size;
  private size = 0;
  private digits = 0;
  private inExtension = false;
  private lineBytes = 0;
  /** In the trailer section: bytes of the current field line. */
  private trailerLine = 0;

  get done(): boolean {
    return this.state === State.Done;
  }

  push(buf: Buffer, out: Buffer[]): number {
    let i = 0;
    const n = buf.length;
    while (i < n) {
      switch (this.state) {
        case State.Size: {
          const c = buf[i++]!;
          if (++this.lineBytes > MAX_CHUNK_LINE) throw new ResponseError('the upstream sent a chunk-size line too long');
          if (c === 0x0d) {
            if (this.digits === 0) throw new ResponseError('the upstream sent a chunk without a size');
            this.state = State.SizeLf;
          } else if (this.inExtension) {
            if (c === 0x0a || c === 0x00) throw new ResponseError('the upstream sent an invalid chunk extension');
          } else if (c === 0x3b || isOws(c)) {
            // Extensions are read and ignored (RFC 9112 §7.1.1); whitespace may precede them.
            if (this.digits === 0) throw new ResponseError('the upstream sent a chunk without a size');
            this.inExtension = true;
          } else {
            const d = hexValue(c);
            if (d < 0 || ++this.digits > 12) throw new ResponseError('the upstream sent an invalid chunk size');
            this.size = this.size * 16 + d;
          }
          break;
        }
        case State.SizeLf:
          if (buf[i++] !== 0x0a) throw new ResponseError('the upstream sent a chunk-size line without LF');
          this.lineBytes = 0;
          this.digits = 0;
          this.inExtension = false;
          if (this.size === 0) {
            this.state = State.Trailer;
            this.trailerLine = 0;
          } else this.state = State.Data;
          break;
        case State.Data: {
          const take = Math.min(this.size, n - i);
          out.push(i === 0 && take === n ? buf : buf.subarray(i, i + take));
          i += take;
          this.size -= take;
          if (this.size === 0) this.state = State.DataCr;
          break;
        }
        case State.DataCr:
          if (buf[i++] !== 0x0d) throw new ResponseError('the upstream sent a chunk longer than its size');
          this.state = State.DataLf;
          break;
        case State.DataLf:
          if (buf[i++] !== 0x0a) throw new ResponseError('the upstream sent a chunk without CR LF after it');
          this.state = State.Size;
          break;
        case State.Trailer: {
          const c = buf[i++]!;
          if (++this.lineBytes > MAX_CHUNK_LINE) throw new ResponseError('the upstream sent a trailer section too long');
          if (c === 0x0d) this.state = State.TrailerLf;
          else if (c === 0x0a || c === 0x00) throw new ResponseError('the upstream sent an invalid trailer');
          else this.trailerLine++;
          break;
        }
        case State.TrailerLf:
          if (buf[i++] !== 0x0a) throw new ResponseError('the upstream sent a trailer line without LF');
          if (this.trailerLine === 0) {
            this.state = State.Done;
            return i;
          }
          this.trailerLine = 0;
          this.state = State.Trailer;
          break;
        case State.Done:
          return i;
      }
    }
    return -1;
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}
