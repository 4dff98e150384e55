/**
 * The pieces of HTTP's grammar that the gateway checks in more than one layer: a token (header
 * names and methods, RFC 9110 §5.6.2), what a field value may hold, and header names as keys.
 * Here, at the bottom of the layers, so that the config's header-name patterns and the HTTP/1.1
 * client check one and the same thing.
 */

/** A header name or method (RFC 9110 §5.6.2). */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** What node:http refuses to write in a header value or a reason phrase (and CR, LF, NUL). */
export const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Header names met before, as written → lower-cased; only valid names are kept. The same few
 * dozen names come on every request and response, and a lookup here replaces a token check and
 * a `toLowerCase` per header. With it (and h1-response.ts's header object), reading a 5-header
 * response head and copying its headers went from 19,400 to 12,660 instructions, and writing a
 * 9-header request head from 13,100 to 8,230 (callgrind, issue 14). Bounded: past `MAX_NAMES`
 * names (a peer that sends names that never repeat), a new name is checked each time, as without
 * the cache; the names kept are the first ones met, on a gateway its traffic's usual ones.
 */
const NAMES = new Map<string, string>();
const MAX_NAMES = 1024;

/** The lower-cased form of a header name, or undefined when it is not a token. */
export function headerKey(name: string): string | undefined {
  let key = NAMES.get(name);
  if (key !== undefined) return key;
  if (!TOKEN.test(name)) return undefined;
  key = name.toLowerCase();
  if (NAMES.size < MAX_NAMES) NAMES.set(name, key);
  return key;
}
