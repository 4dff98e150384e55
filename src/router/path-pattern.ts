/**
 * Path patterns of the rule language (docs/rules.md):
 *   "/a/b"      exact
 *   "/a/**"     prefix: /a and everything below it
 *   "/a/*\/c"    "*" stands for exactly one segment
 *   "~regex"    a regular expression (RE2 syntax, matched in linear time) tested against the path
 * Paths are matched as the client sent them, without the query string: no percent-decoding and
 * no slash folding, so that what the operator reads in an access log is what the rule sees.
 */

import { compileLinearRegex, type LinearRegex } from '../util/linear-regex.js';

export type PathPattern =
  | { kind: 'exact'; spec: string; path: string; literal: readonly string[] }
  | { kind: 'prefix'; spec: string; prefix: string; literal: readonly string[] }
  | { kind: 'segments'; spec: string; segments: readonly (string | null)[]; anyTail: boolean; literal: readonly string[] }
  | { kind: 'regex'; spec: string; regex: LinearRegex; literal: readonly string[] };

/** Compiles a pattern, or returns the reason it is invalid. */
export function compilePathPattern(spec: string): PathPattern | string {
  if (spec.startsWith('~')) {
    const regex = compileLinearRegex(spec.slice(1));
    return typeof regex === 'string' ? regex : { kind: 'regex', spec, regex, literal: [] };
  }
  if (!spec.startsWith('/')) return 'a path pattern starts with "/" (or "~" for a regular expression)';
  if (/[?#]/.test(spec)) return 'a path pattern has no query string or fragment; use match.query';
  const parts = spec.split('/').slice(1);
  const anyTail = parts[parts.length - 1] === '**';
  if (anyTail) parts.pop();
  const segments: (string | null)[] = [];
  for (const part of parts) {
    if (part === '**') return '"**" may only be the last segment';
    if (part === '*') segments.push(null);
    else if (part.includes('*')) return `segment ${JSON.stringify(part)} mixes "*" with text; "*" stands alone for one whole segment`;
    else segments.push(part);
  }
  const firstWild = segments.indexOf(null);
  const literal = (firstWild === -1 ? segments : segments.slice(0, firstWild)) as string[];
  if (firstWild === -1 && !anyTail) return { kind: 'exact', spec, path: spec, literal };
  if (firstWild === -1 && anyTail) {
    const prefix = '/' + literal.join('/');
    return { kind: 'prefix', spec, prefix: prefix === '/' ? '' : prefix, literal };
  }
  return { kind: 'segments', spec, segments, anyTail, literal };
}

export function matchPath(pattern: PathPattern, path: string): boolean {
  switch (pattern.kind) {
    case 'exact':
      return path === pattern.path;
    case 'prefix': {
      const p = pattern.prefix;
      // "/a/**" matches "/a", "/a/" and "/a/…", never "/ab".
      return path.startsWith(p) && (path.length === p.length || path.charCodeAt(p.length) === 47 /* / */);
    }
    case 'regex':
      return pattern.regex.test(path);
    case 'segments': {
      const parts = path.split('/');
      const segs = pattern.segments;
      if (parts.length - 1 < segs.length) return false;
      if (!pattern.anyTail && parts.length - 1 !== segs.length) return false;
      for (let i = 0; i < segs.length; i++) {
        const want = segs[i];
        const got = parts[i + 1]!;
        if (want === null ? got === '' : want !== got) return false;
      }
      return true;
    }
  }
}
