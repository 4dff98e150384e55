/**
 * A route's sticky key (`sticky:` in docs/rules.md): which part of the request keeps a client on
 * the same bucket. `spec` is the text as written in the rules.
 */
import { cookieValue, headerValue, queryValue, type RequestFacts } from './request-facts.js';

export type StickyKey = { kind: 'header' | 'cookie' | 'query'; name: string; spec: string } | { kind: 'ip'; spec: string };

/** Parses `header:NAME`, `cookie:NAME`, `query:NAME` or `ip`; a string is the error. */
export function parseStickyKey(spec: string): StickyKey | string {
  if (spec === 'ip') return { kind: 'ip', spec };
  const m = /^(header|cookie|query):(.+)$/.exec(spec);
  if (!m) return `${JSON.stringify(spec)} is not a sticky key (header:NAME, cookie:NAME, query:NAME or ip)`;
  const kind = m[1] as 'header' | 'cookie' | 'query';
  return { kind, name: kind === 'header' ? m[2]!.toLowerCase() : m[2]!, spec };
}

export function stickyValue(key: StickyKey, facts: RequestFacts): string | undefined {
  let v: string | undefined;
  switch (key.kind) {
    case 'header':
      v = headerValue(facts, key.name);
      break;
    case 'cookie':
      v = cookieValue(facts, key.name);
      break;
    case 'query':
      v = queryValue(facts, key.name);
      break;
    case 'ip':
      v = facts.remoteAddress;
      break;
  }
  return v === '' ? undefined : v;
}
