/**
 * HTTP/2 requests in the shape the lifecycle already handles. node:http2's compatibility API
 * (Http2ServerRequest, Http2ServerResponse) stands in for IncomingMessage and ServerResponse;
 * these subclasses, which the listener hands to the http2 server, close the gaps that matter to
 * a proxy whose upstreams speak HTTP/1.1:
 *
 * - `headers` has no pseudo-headers (`:path`, `:authority`...), which must never be forwarded,
 *   and `host` comes from `:authority`, as RFC 9113 §8.3.1 asks of an intermediary that
 *   builds an HTTP/1.1 request; it is assignable, like IncomingMessage's, and
 *   `headersDistinct` (which the pipeline reads) exists, as IncomingMessage's does.
 * - A body without content-length is described as HTTP/1.1 would describe it
 *   (`transfer-encoding: chunked`, hop-by-hop, so never forwarded as such), so that every step
 *   that asks "is there a body?" gets the right answer and undici sends it chunked.
 * - Connection-specific response headers (RFC 9113 §8.2.2) are dropped instead of making
 *   node:http2 throw, and the reason phrase, which HTTP/2 does not have, is not passed on.
 * - `destroyed` and `writableFinished` mean what they mean on ServerResponse (a stream the
 *   client reset is not finished), and `headerBytes` and `bytesIn` count per stream what the
 *   lifecycle counts on the socket for HTTP/1.1 (here every stream shares the socket), and
 *   `headerCount` what HTTP/1.1's rawHeaders would hold.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { Http2ServerRequest, Http2ServerResponse, type ServerHttp2Stream } from 'node:http2';
import type { ReadableOptions } from 'node:stream';

/** Forbidden in HTTP/2 messages (RFC 9113 §8.2.2); `te` is only allowed as "trailers" in requests. */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te']);

/** Methods whose request body has no defined meaning (RFC 9110 §9.3.1-2). */
const NO_BODY_EXPECTED = new Set(['GET', 'HEAD']);

export class EdgeHttp2Request extends Http2ServerRequest {
  /** The header block as HTTP/1.1 would spell it (name, value, ": " and CRLF per field). */
  readonly headerBytes: number;
  /** Header fields, pseudo-headers not counted (as HTTP/1.1's rawHeaders would hold them). */
  readonly headerCount: number;
  private bodyBytes = 0;

  constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, options: ReadableOptions, rawHeaders: string[]) {
    super(stream, headers, options, rawHeaders);
    let size = 0;
    let count = 0;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      size += rawHeaders[i]!.length + rawHeaders[i + 1]!.length + 4;
      if (rawHeaders[i]!.charCodeAt(0) !== 58 /* ':' */) count++;
    }
    this.headerBytes = size;
    this.headerCount = count;
    const fields: IncomingHttpHeaders = {};
    for (const name in headers) if (name.charCodeAt(0) !== 58 /* ':' */) fields[name] = headers[name];
    const authority = headers[':authority'];
    if (typeof authority === 'string' && authority !== '') fields.host = authority;
    // A HEADERS frame without END_STREAM announces a body; GET and HEAD clients (node:http2's
    // default) often end an empty stream with a separate DATA frame, which is no body.
    if (!stream.endAfterHeaders && fields['content-length'] === undefined && !NO_BODY_EXPECTED.has(this.method)) {
      fields['transfer-encoding'] = 'chunked';
    }
    // An own data property over the prototype's getter: the lifecycle and the in-process
    // backend replace `headers`, as they may on IncomingMessage.
    Object.defineProperty(this, 'headers', { value: fields, writable: true, enumerable: true, configurable: true });
  }

  private distinct: NodeJS.Dict<string[]> | undefined;

  /** As IncomingMessage's: every field's values, as received, without pseudo-headers. */
  get headersDistinct(): NodeJS.Dict<string[]> {
    if (this.distinct) return this.distinct;
    const out: NodeJS.Dict<string[]> = {};
    const raw = this.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      if (name.charCodeAt(0) !== 58 /* ':' */) (out[name] ??= []).push(raw[i + 1]!);
    }
    const host = (this.headers as IncomingHttpHeaders).host;
    if (host !== undefined) out.host = [host];
    return (this.distinct = out);
  }

  /** Request bytes of this stream: the header block (as HTTP/1.1 would spell it) and the body. */
  get bytesIn(): number {
    return this.headerBytes + this.bodyBytes;
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk) this.bodyBytes += (chunk as Buffer).length;
    return super.push(chunk, encoding);
  }
}

function allowed(name: string): boolean {
  return !CONNECTION_SPECIFIC.has(name.toLowerCase());
}

type HeaderArg = OutgoingHttpHeaders | readonly string[];

/** The headers without connection-specific ones; the same object when there are none. */
function sanitize(headers: HeaderArg | undefined): HeaderArg | undefined {
  if (headers === undefined) return undefined;
  if (Array.isArray(headers)) {
    // Raw form: [name, value, name, value, ...] or [[name, value], ...].
    const pairs = headers.length > 0 && Array.isArray(headers[0]);
    const step = pairs ? 1 : 2;
    const name = (i: number) => String(pairs ? (headers[i] as unknown as string[])[0] : headers[i]);
    let keep = true;
    for (let i = 0; i < headers.length && keep; i += step) keep = allowed(name(i));
    if (keep) return headers;
    const out: string[] = [];
    for (let i = 0; i < headers.length; i += step) if (allowed(name(i))) out.push(...(headers as string[]).slice(i, i + step));
    return out;
  }
  let out: OutgoingHttpHeaders | undefined;
  for (const name in headers as OutgoingHttpHeaders) {
    if (allowed(name)) continue;
    out ??= { ...(headers as OutgoingHttpHeaders) };
    delete out[name];
  }
  return out ?? headers;
}

export class EdgeHttp2Response extends Http2ServerResponse<EdgeHttp2Request> {
  override writeHead(statusCode: number, headers?: HeaderArg): this;
  override writeHead(statusCode: number, statusMessage: string, headers?: HeaderArg): this;
  override writeHead(statusCode: number, a?: string | HeaderArg, b?: HeaderArg): this {
    // HTTP/2 has no reason phrase; passing one only earns a process warning.
    const headers = typeof a === 'string' || a === undefined ? b : a;
    return super.writeHead(statusCode, sanitize(headers));
  }

  override setHeader(name: string, value: number | string | readonly string[]): void {
    if (allowed(name)) super.setHeader(name, value);
  }

  override appendHeader(name: string, value: string | string[]): void {
    if (allowed(name)) super.appendHeader(name, value);
  }
}

// What the forward step reads of a response, with ServerResponse's meaning; defined on the
// prototype because the typings declare them as data properties.
Object.defineProperties(EdgeHttp2Response.prototype, {
  // Http2ServerResponse has no `destroyed`; the forward step checks it before every write.
  destroyed: {
    get(this: Http2ServerResponse): boolean {
      return this.stream.destroyed;
    },
  },
  // A stream reset by the client counts as writable-finished in node:http2; here, as on
  // HTTP/1.1, only a response that was ended is, so that a reset cancels the upstream request.
  writableFinished: {
    get(this: Http2ServerResponse): boolean {
      return this.writableEnded && this.stream.writableFinished;
    },
  },
});

export function isHttp2Request(req: object): req is EdgeHttp2Request {
  return req instanceof EdgeHttp2Request;
}
