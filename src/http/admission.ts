/**
 * The first step of the lifecycle: refuse requests the gateway will not forward, before any
 * routing work. Node's parser has already refused malformed request lines, invalid header names
 * and values, and Content-Length together with Transfer-Encoding (see client-errors.ts).
 */
import type { IncomingMessage } from 'node:http';
import { ERRORS, type ErrorDef } from '../errors.js';
import { isHttp2Request } from './http2-compat.js';

export interface AdmissionLimits {
  maxUrlBytes: number;
  /** HTTP/1.1's parser enforces it before admission; HTTP/2 headers are measured here. */
  maxHeaderBytes?: number;
}

export function admit(req: IncomingMessage, limits: AdmissionLimits): ErrorDef | undefined {
  const url = req.url ?? '';
  if (url.length > limits.maxUrlBytes) return ERRORS.CLIENT_URI_TOO_LONG;
  if (limits.maxHeaderBytes !== undefined && isHttp2Request(req) && req.headerBytes > limits.maxHeaderBytes) return ERRORS.CLIENT_HEADERS_TOO_LARGE;
  // Origin-form ("/path") or, for a proxy, absolute-form; "*" only with OPTIONS (RFC 9112 §3.2).
  if (!(url.startsWith('/') || url.startsWith('http://') || url.startsWith('https://') || (url === '*' && req.method === 'OPTIONS'))) {
    return ERRORS.CLIENT_BAD_REQUEST;
  }
  if (req.headers.host === undefined && req.httpVersionMinor === 1 && req.httpVersionMajor === 1) return ERRORS.CLIENT_BAD_REQUEST; // RFC 9112 §3.2
  // A Trailer announcement needs a chunked body to carry the trailers; without one it is either
  // a client bug or a desync attempt, and a backend could read it either way.
  if (req.headers.trailer !== undefined && !/\bchunked\b/i.test(req.headers['transfer-encoding'] ?? '')) {
    return ERRORS.CLIENT_BAD_REQUEST;
  }
  return undefined;
}

/**
 * Absolute-form targets ("GET http://host/path", RFC 9112 §3.2.2) become origin-form, and the
 * target's authority replaces Host, as the RFC requires of a server receiving one.
 */
export function toOriginForm(req: IncomingMessage): void {
  const url = req.url ?? '';
  if (!url.startsWith('http://') && !url.startsWith('https://')) return;
  const u = new URL(url);
  req.url = u.pathname + u.search;
  req.headers.host = u.host;
}
