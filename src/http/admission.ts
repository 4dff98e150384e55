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
  /** Header fields (pseudo-headers not counted); past it, 431 rather than fields dropped. */
  maxHeaderCount: number;
}

/**
 * An http(s) authority as RFC 3986 §3.2 spells it, without userinfo (RFC 9110 §4.2.4: a
 * recipient treats it as an error) or percent-encoding (nginx refuses both with 400): an
 * IP-literal or a non-empty reg-name/IPv4, then an optional port. WHATWG URL accepts more
 * ("http:///x" becomes host "x"), so both must accept a target.
 */
const ABSOLUTE_FORM = /^https?:\/\/(?:\[[0-9A-Za-z:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=]+)(?::[0-9]*)?(?=[/?#]|$)/;

/**
 * The path (with query) and authority of an absolute-form target; undefined when it is no valid
 * http(s) URI. The path is what follows the authority, byte for byte, as nginx keeps it: the URL
 * parser would resolve "/static/../x" to "/x" before any rule or WAF behind the gateway sees it.
 */
export function absoluteForm(url: string): { path: string; host: string } | undefined {
  const m = ABSOLUTE_FORM.exec(url);
  if (!m) return undefined;
  // Port over 65535, an IPv4 address out of range, an IPv6 literal that is none.
  const u = URL.parse(url);
  if (!u) return undefined;
  const rest = url.slice(m[0].length);
  const hash = rest.indexOf('#');
  const path = hash === -1 ? rest : rest.slice(0, hash);
  return { path: path.startsWith('/') ? path : `/${path}`, host: u.host };
}

function isAbsoluteForm(url: string): boolean {
  return url.startsWith('http://') || url.startsWith('https://');
}

/** The header fields of a request, as received (HTTP/2 pseudo-headers not counted). */
function headerCount(req: IncomingMessage): number {
  return isHttp2Request(req) ? req.headerCount : req.rawHeaders.length / 2;
}

/**
 * The answer to CONNECT, as nginx gives it: 400 to the authority-form target CONNECT has
 * (`CONNECT host:443`, RFC 9110 §9.3.6), which nginx does not parse; 405 to an origin-form one.
 * Neither the gateway nor the pipeline opens tunnels.
 */
export function connectError(target: string): ErrorDef {
  return target.startsWith('/') ? ERRORS.CLIENT_METHOD_NOT_ALLOWED : ERRORS.CLIENT_BAD_REQUEST;
}

export function admit(req: IncomingMessage, limits: AdmissionLimits): ErrorDef | undefined {
  // HTTP/1.1 CONNECT never gets here on the gateway (node:http hands its socket over:
  // refuseConnect in client-errors.ts); HTTP/2's does, without a :path, and gets 400. The
  // pipeline service hands CONNECT with a path on to its method step (405 through the products).
  if (req.method === 'CONNECT' && !(req.url ?? '').startsWith('/')) return connectError(req.url ?? '');
  // llhttp takes "HTTP/2.0" and "HTTP/0.9" request lines, and Node would forward them as
  // HTTP/1.1; nginx answers 505 and 400. Real HTTP/2 comes through http2-compat.ts.
  if (!isHttp2Request(req) && req.httpVersionMajor !== 1) return req.httpVersionMajor > 1 ? ERRORS.CLIENT_HTTP_VERSION : ERRORS.CLIENT_BAD_REQUEST;
  const url = req.url ?? '';
  if (url.length > limits.maxUrlBytes) return ERRORS.CLIENT_URI_TOO_LONG;
  if (limits.maxHeaderBytes !== undefined && isHttp2Request(req) && req.headerBytes > limits.maxHeaderBytes) return ERRORS.CLIENT_HEADERS_TOO_LARGE;
  // Node 24's parser refuses past the count it is given (listener.ts sets one more than the
  // limit); Node 20's kept the fields past it in rawHeaders only: either way, refused here.
  if (headerCount(req) > limits.maxHeaderCount) return ERRORS.CLIENT_HEADERS_TOO_LARGE;
  // Origin-form ("/path") or, for a proxy, absolute-form; "*" only with OPTIONS (RFC 9112 §3.2).
  if (isAbsoluteForm(url)) {
    // A target that is no URI is the client's error, found here, never on the way upstream.
    if (!absoluteForm(url)) return ERRORS.CLIENT_BAD_REQUEST;
  } else if (!(url.startsWith('/') || (url === '*' && req.method === 'OPTIONS'))) {
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
 * target's authority replaces Host, as the RFC requires of a server receiving one. False when
 * the target is no valid http(s) URI (admit refuses those first).
 */
export function toOriginForm(req: IncomingMessage): boolean {
  const url = req.url ?? '';
  if (!isAbsoluteForm(url)) return true;
  const target = absoluteForm(url);
  if (!target) return false;
  req.url = target.path;
  req.headers.host = target.host;
  return true;
}
