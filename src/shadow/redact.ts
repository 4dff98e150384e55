/**
 * Redaction for stored mismatch samples: secret headers, and JSON paths a route names.
 */

import type { PointerPattern } from '../diff/compare-policy.js';
import { matchesPointer } from '../diff/json-diff.js';

export const REDACTED = '[redacted]';
const SECRET_HEADERS = new Set(['authorization', 'cookie', 'set-cookie', 'proxy-authorization', 'x-switchyard-token']);

export function redactHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = SECRET_HEADERS.has(k) ? REDACTED : v;
  return out;
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
