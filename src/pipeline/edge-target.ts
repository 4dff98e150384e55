/**
 * Request targets the legacy layer (nginx) refuses before any product runs, refused the same way
 * by the pipeline service (issue 11, item 3), and absolute-form targets brought to origin-form so
 * that redirects, WAF path rules and rate limits see "/path", not "http://host/path":
 *   - a repeated Host header (RFC 9112 §3.2; Node would keep the first one silently);
 *   - "%00" or an invalid escape ("%zz", "%4") in the path;
 *   - a dot segment (plain or percent-encoded) that climbs above the root ("/%2e%2e/x").
 * Called before the Context is built; returns the error to answer, or undefined.
 */
import type { IncomingMessage } from 'node:http';
import { ERRORS, type ErrorDef } from '../errors.js';
import { toOriginForm } from '../http/admission.js';
import { isHttp2Request } from '../http/http2-compat.js';
import { percentDecode } from '../products/edge-match.js';

function climbsAboveRoot(path: string): boolean {
  let depth = 0;
  for (const seg of percentDecode(path).split('/').slice(1)) {
    if (seg === '..') {
      if (depth === 0) return true;
      depth--;
    } else if (seg !== '.') depth++;
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

export function checkEdgeTarget(req: IncomingMessage): ErrorDef | undefined {
  if ((headerLines(req, 'host')?.length ?? 0) > 1) return ERRORS.CLIENT_BAD_REQUEST;
  try {
    toOriginForm(req);
  } catch {
    return ERRORS.CLIENT_BAD_REQUEST; // "http://[" and other targets that are no URL
  }
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (!path.includes('%') && !path.includes('.')) return undefined;
  if (/%(?![0-9a-fA-F]{2})|%00/.test(path)) return ERRORS.CLIENT_BAD_REQUEST;
  return climbsAboveRoot(path) ? ERRORS.CLIENT_BAD_REQUEST : undefined;
}
