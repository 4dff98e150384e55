/**
 * Matching helpers the edge products share, written to behave exactly like their Lua twins in
 * config/legacy/lua/edge.lua (both implementations pass the same conformance suite).
 */

/** Exact "/a", or prefix "/a/**" matching "/a" and "/a/…"; the rest is what "/**" matched. */
export function matchEdgePath(pattern: string, path: string): { rest: string } | undefined {
  const rest = compileEdgePath(pattern).rest(path);
  return rest === undefined ? undefined : { rest };
}

/** A path pattern taken apart once, to match per request (the pipeline's modules). */
export interface EdgePath {
  /** What "/**" matched ("" for an exact match or the base itself), or undefined. */
  rest(path: string): string | undefined;
  /** Whether the path matches, allocating nothing. */
  test(path: string): boolean;
}

export function compileEdgePath(pattern: string): EdgePath {
  if (!pattern.endsWith('/**')) return { rest: (path) => (path === pattern ? '' : undefined), test: (path) => path === pattern };
  const base = pattern.slice(0, -3);
  if (base === '') return { rest: (path) => path.slice(1), test: () => true };
  const prefix = `${base}/`;
  return {
    rest: (path) => (path === base ? '' : path.startsWith(prefix) ? path.slice(prefix.length) : undefined),
    test: (path) => path === base || path.startsWith(prefix),
  };
}

/**
 * %XX sequences decoded to the byte they stand for (as a Latin-1 character, like Lua strings of
 * bytes); malformed escapes are left as they are.
 */
export function percentDecode(s: string): string {
  return s.includes('%') ? s.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))) : s;
}

/** A query string as the WAF sees it: "+" as space, then percent-decoded. */
export function decodeQuery(q: string): string {
  return percentDecode(q.replace(/\+/g, ' '));
}
