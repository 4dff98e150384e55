/**
 * The edge's head limits and the header names it drops, one rule for both implementations
 * (issue 11, item 3; docs/products.md, "What both implementations refuse or normalize first").
 * The legacy layer keeps them with nginx's buffers and edge.lua (config/legacy/); the pipeline
 * with these functions, before any product runs (pipeline/edge-target.ts).
 */
import { ERRORS, type ErrorDef } from '../errors.js';

/**
 * A request line or a header line, CRLF included: nginx's `large_client_header_buffers` size,
 * since a line must fit one buffer. Over it: 414 for the request line, 431 for a header line.
 */
export const EDGE_MAX_LINE_BYTES = 8 * 1024;

/** The whole head: request line, header lines and the empty line that ends it. Over it: 431. */
export const EDGE_MAX_HEAD_BYTES = 32 * 1024;

/** "GET " + target + " HTTP/1.1\r\n": the version is always 8 bytes. */
const REQUEST_LINE_EXTRA = 1 + 1 + 8 + 2;

/**
 * 414 or 431 when the head is over a limit, counted as the lines of HTTP/1.1: `Name: value`
 * and CRLF per header line (Node hands over names and values without the colon and the
 * whitespace around the value; a client that writes `Name:value` or pads the value is counted
 * one byte more or its padding less than nginx counts it). `rawHeaders` as Node gives them:
 * name, value, name, value… An HTTP/2 request (the gateway's in-process pipeline) has
 * pseudo-headers: `:authority` counts as the Host line it becomes, the others are the
 * request line.
 */
export function headSizeError(method: string, target: string, rawHeaders: readonly string[]): ErrorDef | undefined {
  const requestLine = method.length + target.length + REQUEST_LINE_EXTRA;
  if (requestLine > EDGE_MAX_LINE_BYTES) return ERRORS.CLIENT_URI_TOO_LONG;
  let total = requestLine + 2;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.charCodeAt(0) === 58 /* ':' */ && name !== ':authority') continue;
    const line = (name === ':authority' ? 4 : name.length) + rawHeaders[i + 1]!.length + 4;
    if (line > EDGE_MAX_LINE_BYTES) return ERRORS.CLIENT_HEADERS_TOO_LARGE;
    total += line;
  }
  return total > EDGE_MAX_HEAD_BYTES ? ERRORS.CLIENT_HEADERS_TOO_LARGE : undefined;
}

const KEPT_NAME = /^[0-9A-Za-z-]+$/;

/**
 * A header name the edge drops, as nginx does with `ignore_invalid_headers on` and
 * `underscores_in_headers off` (its defaults): any name with a character other than a letter,
 * a digit or "-". Neither the products nor the origin see such a header. Dropping `_` matters
 * most: CGI-style origins (PHP, Python's WSGI, Ruby's Rack) read `X_Forwarded_For` and
 * `X-Forwarded-For` as the same HTTP_X_FORWARDED_FOR, so a client could otherwise slip a value
 * past every rule that names the hyphenated header (docs/security.md).
 */
export function isDroppedHeaderName(name: string): boolean {
  return !KEPT_NAME.test(name);
}
