/**
 * Header rewriting between downstream and upstream, as pure functions.
 * Hop-by-hop headers are dropped in both directions (RFC 9110 §7.6.1): Connection and every
 * header it names, Keep-Alive, Proxy-Connection, TE, Transfer-Encoding, Upgrade, Trailer.
 */
import type { IncomingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // Node answers "Expect: 100-continue" itself; the upstream request is sent with its body.
  'expect',
  // Credentials meant for this proxy, not for the backend.
  'proxy-authorization',
]);

export const REQUEST_ID = 'x-request-id';
export const ROUTE_HEADER = 'x-switchyard-route';
export const BACKEND_HEADER = 'x-switchyard-backend';
export const SHADOW_HEADER = 'x-switchyard-shadow';
/** On responses when debug_headers is on: why a route's fallback answered (refused, reset, timeout, 5xx, down). */
export const FALLBACK_HEADER = 'x-switchyard-fallback';
const SWITCHYARD_PREFIX = 'x-switchyard-';

function connectionListed(headers: IncomingHttpHeaders): Set<string> | undefined {
  // node:http joins a repeated Connection of a request; an upstream's response may repeat it (an array).
  const raw = headers.connection as string | string[] | undefined;
  // The usual values name no header that is not dropped anyway: no Set per message (issue 14).
  if (!raw || raw === 'keep-alive' || raw === 'close') return undefined;
  const c = typeof raw === 'string' ? raw : raw.join(',');
  const set = new Set<string>();
  for (const token of c.split(',')) {
    const t = token.trim().toLowerCase();
    if (t) set.add(t);
  }
  return set;
}

export interface UpstreamHeaderInput {
  headers: IncomingHttpHeaders;
  remoteAddress: string | undefined;
  /** "http" or "https": how the client reached the gateway. */
  protocol: string;
  /** The client is a trusted proxy: its X-Forwarded-Proto/-Host are kept, else overwritten. */
  trustForwarded: boolean;
  requestId: string;
  route: string;
}

/** Headers for the upstream request, as a flat object undici accepts. */
export function upstreamRequestHeaders(input: UpstreamHeaderInput): Record<string, string | string[]> {
  const { headers } = input;
  const listed = connectionListed(headers);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    // The gateway's own control headers (override, token) never reach a backend.
    if (name.startsWith(SWITCHYARD_PREFIX)) continue;
    out[name] = value;
  }
  const xff = headers['x-forwarded-for'];
  const remote = input.remoteAddress ?? '';
  out['x-forwarded-for'] = xff ? `${xff}, ${remote}` : remote;
  // Only a trusted proxy may say how the request first arrived; anyone else could claim https.
  out['x-forwarded-proto'] = (input.trustForwarded && (headers['x-forwarded-proto'] as string | undefined)) || input.protocol;
  const host = (input.trustForwarded && headers['x-forwarded-host']) || headers.host;
  if (host !== undefined) out['x-forwarded-host'] = host;
  out[REQUEST_ID] = input.requestId;
  out[ROUTE_HEADER] = input.route;
  return out;
}

/** A copy of `headers` without hop-by-hop ones (either direction). */
export function withoutHopByHop(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const listed = connectionListed(headers as IncomingHttpHeaders);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    out[name] = value;
  }
  return out;
}
