/**
 * Matching helpers the edge products share, written to behave exactly like their Lua twins in
 * config/legacy/lua/edge.lua (both implementations pass the same conformance suite).
 */

/** Exact "/a", or prefix "/a/**" matching "/a" and "/a/…"; the rest is what "/**" matched. */
export function matchEdgePath(pattern: string, path: string): { rest: string } | undefined {
  if (pattern.endsWith('/**')) {
    const p = pattern.slice(0, -3);
    if (p === '') return { rest: path.slice(1) };
    if (path === p) return { rest: '' };
    if (path.startsWith(p + '/')) return { rest: path.slice(p.length + 1) };
    return undefined;
  }
  return path === pattern ? { rest: '' } : undefined;
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
