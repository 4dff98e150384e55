/**
 * Redaction for stored mismatch samples and the diff report (issue 11 item 9): headers and query
 * parameters whose names look like credentials, and JSON paths a route names. What is redacted
 * is still compared and counted; only its value is never written down.
 */

import type { FieldDiff } from '../diff/compare.js';
import type { PointerPattern } from '../diff/compare-policy.js';
import { matchesPointer } from '../diff/json-diff.js';

export const REDACTED = '[redacted]';

/**
 * Redacted in every sample, header and query parameter names alike, whatever the config adds
 * (`shadow.redact.headers` and `.query` add to them; none can be turned off: a value hidden by
 * mistake costs a look at the live exchange, a credential written to disk or to a shared Redis
 * cannot be taken back). Case-insensitive; `*` matches any run of characters.
 */
export const DEFAULT_REDACTED_NAMES: readonly string[] = Object.freeze([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  '*token*',
  '*secret*',
  '*key*',
  '*session*',
  '*password*',
  // Beyond issue 11's list: PHP's PHPSESSID (no "session" in it), and the signature of a
  // presigned URL (X-Amz-Signature, signature=), which is the credential for that URL.
  '*sessid*',
  '*signature*',
]);

/** A compiled list of names and `*` patterns, matched case-insensitively. */
export type NameMatcher = (name: string) => boolean;

/**
 * Compiles names and patterns into one matcher. Globs rather than regexes, and matched by
 * `indexOf`: a query parameter name may be kilobytes long, and `.*token.*` on it backtracks.
 */
export function nameMatcher(patterns: readonly string[]): NameMatcher {
  const exact = new Set<string>();
  const globs: string[][] = [];
  for (const p of patterns) {
    const lower = p.toLowerCase();
    if (lower.includes('*')) globs.push(lower.split('*'));
    else exact.add(lower);
  }
  return (name) => {
    const n = name.toLowerCase();
    return exact.has(n) || globs.some((g) => globMatches(g, n));
  };
}

/** `parts` is a pattern split at its `*`s: the first is a prefix, the last a suffix, the rest in order between. */
function globMatches(parts: readonly string[], name: string): boolean {
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (name.length < first.length + last.length || !name.startsWith(first) || !name.endsWith(last)) return false;
  let at = first.length;
  const end = name.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const found = name.indexOf(parts[i]!, at);
    if (found === -1 || found + parts[i]!.length > end) return false;
    at = found + parts[i]!.length;
  }
  return true;
}

/** What a gateway redacts: the defaults plus `shadow.redact` of its config. Built once. */
export interface Redaction {
  header: NameMatcher;
  query: NameMatcher;
}

export function compileRedaction(extra: { headers: readonly string[]; query: readonly string[] }): Redaction {
  return {
    // The gateway's own override token travels as a header (docs/rules.md): never stored either.
    header: nameMatcher([...DEFAULT_REDACTED_NAMES, 'x-switchyard-token', ...extra.headers]),
    query: nameMatcher([...DEFAULT_REDACTED_NAMES, ...extra.query]),
  };
}

export function redactHeaders(headers: Readonly<Record<string, string | string[] | undefined>>, r: Redaction): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = r.header(k) ? REDACTED : v;
  return out;
}

/**
 * The raw query string with the value of every parameter whose (percent-decoded) name matches
 * replaced by "[redacted]"; everything else, order and encoding included, as it was.
 */
export function redactQuery(query: string, r: Redaction): string {
  if (!query) return query;
  return query
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      if (eq === -1) return part;
      const name = part.slice(0, eq);
      return r.query(decodeName(name)) ? `${name}=${REDACTED}` : part;
    })
    .join('&');
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name; // a stray "%": the name as sent
  }
}

/** A copy of `value` with every value at a matching JSON Pointer replaced. */
export function redactJson(value: unknown, patterns: readonly PointerPattern[], path: string[] = []): unknown {
  if (patterns.length === 0) return value;
  if (path.length && patterns.some((p) => matchesPointer(p, path))) return REDACTED;
  if (Array.isArray(value)) return value.map((v, i) => redactJson(v, patterns, [...path, String(i)]));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactJson(v, patterns, [...path, k]);
    return out;
  }
  return value;
}

/** True when a diff's field (a JSON Pointer) lies at or below a redacted path. */
export function isRedactedField(field: string, patterns: readonly PointerPattern[]): boolean {
  if (!field.startsWith('/')) return false;
  const tokens = field
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  return patterns.some((p) => p.length <= tokens.length && matchesPointer(p, tokens.slice(0, p.length)));
}

/**
 * A diff as the report and the samples show it: the values of a redacted JSON path or of a
 * redacted header (`header:NAME`, e.g. two different Set-Cookie values) replaced.
 */
export function hideRedacted(d: FieldDiff, jsonPaths: readonly PointerPattern[], r: Redaction): FieldDiff {
  const hidden = isRedactedField(d.field, jsonPaths) || (d.field.startsWith('header:') && r.header(d.field.slice('header:'.length)));
  // A side without the value (an added or removed field) stays without: that it is missing is no secret.
  return hidden ? { ...d, a: d.a === undefined ? undefined : REDACTED, b: d.b === undefined ? undefined : REDACTED } : d;
}
