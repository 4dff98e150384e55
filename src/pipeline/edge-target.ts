/**
 * Request heads the legacy layer (nginx) refuses or changes before any product runs, refused
 * and changed the same way by the pipeline (issue 11, item 3), and absolute-form targets
 * brought to origin-form so that redirects, WAF path rules and rate limits see "/path", not
 * "http://host/path":
 *   - a request line over 8 KiB (414), a header line over 8 KiB or a head over 32 KiB (431),
 *     as products/edge-limits.ts counts them;
 *   - a repeated Host header (RFC 9112 §3.2; Node would keep the first one silently);
 *   - "%00" or an invalid escape ("%zz", "%4") in the path;
 *   - a dot segment (plain or percent-encoded) that climbs above the root ("/%2e%2e/x"), counted
 *     after merging repeated slashes as nginx does (merge_slashes): "//.." climbs too;
 *   - an absolute-form target nginx's parser refuses (userinfo, an empty host, a host with
 *     characters other than letters, digits, "." and "-");
 *   - a target that is neither origin- nor absolute-form ("*", which nginx refuses too);
 *   - a Transfer-Encoding other than "chunked" alone;
 *   - header names with anything but letters, digits and "-" are dropped, as nginx drops them.
 * Called before the Context is built; returns the error to answer, or undefined.
 */
import type { IncomingMessage } from 'node:http';
import { ERRORS, type ErrorDef } from '../errors.js';
import { isHttp2Request } from '../http/http2-compat.js';
import { headSizeError, isDroppedHeaderName } from '../products/edge-limits.js';
import { percentDecode } from '../products/edge-match.js';

/**
 * nginx's absolute-form (ngx_http_parse_request_line): a scheme, "://", a host of letters,
 * digits, "." and "-" (or an IP literal in brackets), an optional port of digits, then the path,
 * the query or nothing. What follows the authority is kept byte for byte: the WHATWG URL parser
 * would resolve "/static/../x" to "/x" before the WAF sees it (found by the differential fuzz).
 */
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:\[[^\]\s/?#@]+\]|[A-Za-z0-9.-]+)(?::\d*)?(?=[/?]|$)/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/**
 * An absolute-form target becomes its origin-form. The client's Host stays as it is: the legacy
 * layer forwards $http_host, and refuses HTTP/1.1 without Host even with an absolute target, as
 * admission does. Returns false for a target nginx refuses: neither origin-form nor absolute-form
 * as nginx reads it.
 */
function toOriginForm(req: IncomingMessage): boolean {
  const url = req.url ?? '';
  if (url.startsWith('/')) return true;
  if (!SCHEME.test(url)) return false; // "*" (OPTIONS *) and other targets nginx refuses
  const m = ABSOLUTE_FORM.exec(url);
  if (!m) return false;
  const rest = url.slice(m[0].length);
  req.url = rest.startsWith('/') ? rest : `/${rest}`;
  return true;
}

function climbsAboveRoot(path: string): boolean {
  let depth = 0;
  for (const seg of percentDecode(path).split('/')) {
    if (seg === '..') {
      if (depth === 0) return true;
      depth--;
    } else if (seg !== '.' && seg !== '') depth++;
  }
  return false;
}

/**
 * Every line of a request header as the client sent it (`headersDistinct[name]`, `name` in
 * lowercase). On HTTP/1 read from rawHeaders: headersDistinct would build an array for every
 * header of every request, where the pipeline asks for one or two. HTTP/2 requests keep their
 * own headersDistinct (Host comes from :authority there).
 */
export function headerLines(req: IncomingMessage, name: string): string[] | undefined {
  if (isHttp2Request(req)) return req.headersDistinct[name];
  const raw = req.rawHeaders;
  let out: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    if (n.length === name.length && (n === name || n.toLowerCase() === name)) (out ??= []).push(raw[i + 1]!);
  }
  return out;
}

/**
 * Removes the headers nginx ignores from what the products and the origin see: `headers` (the
 * gateway's in-process backend replaces it with its own copy) and `headersDistinct` (the
 * client's lines on HTTP/2). headerLines never returns them on HTTP/1: products name only
 * headers that are kept (products-config.ts refuses the others). Nearly every request has
 * none, and costs one test per name.
 */
function dropInvalidHeaders(req: IncomingMessage): void {
  const raw = req.rawHeaders;
  let dropped: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) !== 58 /* ':' HTTP/2 pseudo-header */ && isDroppedHeaderName(name)) (dropped ??= []).push(name.toLowerCase());
  }
  if (!dropped) return;
  const headers = req.headers as Record<string, unknown>;
  const distinct = req.headersDistinct as Record<string, unknown>;
  for (const name of dropped) {
    delete headers[name];
    delete distinct[name];
  }
}

export function checkEdgeTarget(req: IncomingMessage): ErrorDef | undefined {
  const size = headSizeError(req.method ?? 'GET', req.url ?? '/', req.rawHeaders);
  if (size === ERRORS.CLIENT_URI_TOO_LONG) return size;
  if ((headerLines(req, 'host')?.length ?? 0) > 1) return ERRORS.CLIENT_BAD_REQUEST;
  if (!toOriginForm(req)) return ERRORS.CLIENT_BAD_REQUEST;
  // Node accepts a transfer coding before the final chunked ("gzip, chunked") and would forward
  // the body without it; nginx knows "chunked" alone (and answers 501 to the rest).
  const te = req.headers['transfer-encoding'];
  if (te !== undefined && te.toLowerCase() !== 'chunked') return ERRORS.CLIENT_BAD_REQUEST;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  // nginx reads the request line before the headers: its 400s come before a header's 431.
  if ((path.includes('%') || path.includes('.')) && (/%(?![0-9a-fA-F]{2})|%00/.test(path) || climbsAboveRoot(path))) return ERRORS.CLIENT_BAD_REQUEST;
  if (size) return size;
  dropInvalidHeaders(req);
  return undefined;
}
