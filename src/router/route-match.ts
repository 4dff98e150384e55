/**
 * A route's `match` block, compiled once per rule set, and the pure function that tests a request
 * against it. Every condition present must hold; absent conditions match anything.
 */
import { matchPath, type PathPattern } from './path-pattern.js';
import { compileLinearRegex, type LinearRegex } from '../util/linear-regex.js';
import { cookieValue, headerValue, queryValue, type RequestFacts } from './request-facts.js';

/** "exact", "~regex", or "*" for "present with any value". */
export type ValueMatcher = { kind: 'exact'; value: string } | { kind: 'regex'; regex: LinearRegex } | { kind: 'present' };

export type HostPattern = { kind: 'exact'; host: string } | { kind: 'suffix'; suffix: string };

export interface RouteMatch {
  host?: HostPattern;
  path?: PathPattern;
  methods?: ReadonlySet<string>;
  headers: readonly (readonly [string, ValueMatcher])[];
  cookies: readonly (readonly [string, ValueMatcher])[];
  query: readonly (readonly [string, ValueMatcher])[];
}

export function compileValueMatcher(source: string): ValueMatcher | string {
  if (source === '*') return { kind: 'present' };
  if (source.startsWith('~')) {
    const regex = compileLinearRegex(source.slice(1));
    return typeof regex === 'string' ? regex : { kind: 'regex', regex };
  }
  return { kind: 'exact', value: source };
}

export function compileHostPattern(source: string): HostPattern | string {
  const host = source.toLowerCase();
  if (host.startsWith('*.')) {
    const rest = host.slice(2);
    if (!rest || rest.includes('*')) return 'a host wildcard is a leading "*." followed by a domain';
    return { kind: 'suffix', suffix: '.' + rest };
  }
  if (host.includes('*')) return 'only a leading "*." wildcard is allowed in a host';
  if (!/^[a-z0-9.\-\[\]:]+$/.test(host)) return `${JSON.stringify(source)} is not a host name`;
  return { kind: 'exact', host };
}

function matchValue(m: ValueMatcher, value: string | undefined): boolean {
  if (value === undefined) return false;
  switch (m.kind) {
    case 'present':
      return true;
    case 'exact':
      return value === m.value;
    case 'regex':
      return m.regex.test(value);
  }
}

export function matchRoute(m: RouteMatch, facts: RequestFacts): boolean {
  if (m.methods && !m.methods.has(facts.method)) return false;
  if (m.host) {
    const h = facts.host;
    if (m.host.kind === 'exact' ? h !== m.host.host : !(h.endsWith(m.host.suffix) && h.length > m.host.suffix.length)) return false;
  }
  if (m.path && !matchPath(m.path, facts.path)) return false;
  for (const [name, vm] of m.headers) if (!matchValue(vm, headerValue(facts, name))) return false;
  for (const [name, vm] of m.cookies) if (!matchValue(vm, cookieValue(facts, name))) return false;
  for (const [name, vm] of m.query) if (!matchValue(vm, queryValue(facts, name))) return false;
  return true;
}
