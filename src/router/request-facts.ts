/**
 * The few facts about a request that rules look at. Built once per request from the raw
 * request line and headers; cookies and query parameters are parsed only when a rule asks.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface RequestFacts {
  method: string;
  /** Lowercased, without the port. */
  host: string;
  /** The path as sent, without the query string. */
  path: string;
  /** The raw query string, without "?". */
  query: string;
  headers: IncomingHttpHeaders;
  remoteAddress: string;
  /** Parsed on first use. */
  cookieJar?: Map<string, string>;
  queryParams?: URLSearchParams;
}

export function requestFacts(method: string, url: string, headers: IncomingHttpHeaders, remoteAddress = ''): RequestFacts {
  const q = url.indexOf('?');
  return {
    method,
    host: hostOf(headers.host),
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
    headers,
    remoteAddress,
  };
}

function hostOf(host: string | undefined): string {
  if (!host) return '';
  let h = host;
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    h = end === -1 ? h : h.slice(0, end + 1);
  } else {
    const colon = h.lastIndexOf(':');
    if (colon !== -1) h = h.slice(0, colon);
  }
  return h.toLowerCase();
}

export function headerValue(facts: RequestFacts, name: string): string | undefined {
  const v = facts.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

export function cookieValue(facts: RequestFacts, name: string): string | undefined {
  if (!facts.cookieJar) {
    const jar = new Map<string, string>();
    const raw = headerValue(facts, 'cookie');
    if (raw) {
      for (const part of raw.split(';')) {
        const eq = part.indexOf('=');
        if (eq === -1) continue;
        const k = part.slice(0, eq).trim();
        if (k && !jar.has(k)) jar.set(k, part.slice(eq + 1).trim());
      }
    }
    facts.cookieJar = jar;
  }
  return facts.cookieJar.get(name);
}

export function queryValue(facts: RequestFacts, name: string): string | undefined {
  facts.queryParams ??= new URLSearchParams(facts.query);
  return facts.queryParams.get(name) ?? undefined;
}
