/**
 * Structural JSON diff: the JSON Pointer (RFC 6901) of every added, removed and changed value,
 * type changes included. Pure; the comparer feeds it parsed bodies and the route's policy.
 */
import type { PointerPattern } from './compare-policy.js';

export type DiffKind = 'changed' | 'added' | 'removed' | 'type';

/** One differing field. `a` is the serving backend's value, `b` the shadow's. */
export interface FieldDiff {
  field: string;
  kind: DiffKind;
  a?: unknown;
  b?: unknown;
}

export interface JsonDiffOptions {
  ignore: readonly PointerPattern[];
  unordered: readonly PointerPattern[];
  numericTolerance: number;
  /** Stop after this many differences (the rest are not listed). */
  limit: number;
}

export function escapeToken(t: string): string {
  return t.replace(/~/g, '~0').replace(/\//g, '~1');
}

function pointer(path: readonly string[]): string {
  return path.length === 0 ? '' : '/' + path.map(escapeToken).join('/');
}

/** True when `path` matches `pattern` exactly, `*` standing for any one token. */
export function matchesPointer(pattern: PointerPattern, path: readonly string[]): boolean {
  if (pattern.length !== path.length) return false;
  for (let i = 0; i < pattern.length; i++) if (pattern[i] !== '*' && pattern[i] !== path[i]) return false;
  return true;
}

function typeOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function numbersClose(a: number, b: number, tolerance: number): boolean {
  if (a === b) return true;
  const d = Math.abs(a - b);
  return d <= tolerance || d <= tolerance * Math.max(Math.abs(a), Math.abs(b));
}

/** A stable text form of a value, without ignored fields, for multiset comparison. */
function canonical(v: unknown, path: string[], o: JsonDiffOptions): string {
  if (Array.isArray(v)) return '[' + v.map((x, i) => canonical(x, [...path, String(i)], o)).join(',') + ']';
  if (v && typeof v === 'object') {
    const keys = Object.keys(v).sort();
    const parts: string[] = [];
    for (const k of keys) {
      const p = [...path, k];
      if (o.ignore.some((pat) => matchesPointer(pat, p))) continue;
      parts.push(JSON.stringify(k) + ':' + canonical((v as Record<string, unknown>)[k], p, o));
    }
    return '{' + parts.join(',') + '}';
  }
  return JSON.stringify(v);
}

export function diffJson(a: unknown, b: unknown, o: JsonDiffOptions): FieldDiff[] {
  const out: FieldDiff[] = [];
  const walk = (x: unknown, y: unknown, path: string[]): void => {
    if (out.length >= o.limit) return;
    if (path.length && o.ignore.some((p) => matchesPointer(p, path))) return;
    const tx = typeOf(x);
    const ty = typeOf(y);
    if (tx !== ty) {
      out.push({ field: pointer(path), kind: 'type', a: x, b: y });
      return;
    }
    if (tx === 'array') {
      const xa = x as unknown[];
      const ya = y as unknown[];
      if (o.unordered.some((p) => matchesPointer(p, path))) {
        multiset(xa, ya, path);
        return;
      }
      const n = Math.max(xa.length, ya.length);
      for (let i = 0; i < n; i++) {
        const p = [...path, String(i)];
        if (i >= ya.length) out.push({ field: pointer(p), kind: 'removed', a: xa[i] });
        else if (i >= xa.length) out.push({ field: pointer(p), kind: 'added', b: ya[i] });
        else walk(xa[i], ya[i], p);
        if (out.length >= o.limit) return;
      }
      return;
    }
    if (tx === 'object') {
      const xo = x as Record<string, unknown>;
      const yo = y as Record<string, unknown>;
      for (const k of Object.keys(xo)) {
        const p = [...path, k];
        if (!Object.hasOwn(yo, k)) {
          if (!o.ignore.some((pat) => matchesPointer(pat, p))) out.push({ field: pointer(p), kind: 'removed', a: xo[k] });
        } else walk(xo[k], yo[k], p);
        if (out.length >= o.limit) return;
      }
      for (const k of Object.keys(yo)) {
        if (Object.hasOwn(xo, k)) continue;
        const p = [...path, k];
        if (!o.ignore.some((pat) => matchesPointer(pat, p))) out.push({ field: pointer(p), kind: 'added', b: yo[k] });
        if (out.length >= o.limit) return;
      }
      return;
    }
    if (tx === 'number' ? !numbersClose(x as number, y as number, o.numericTolerance) : x !== y) {
      out.push({ field: pointer(path), kind: 'changed', a: x, b: y });
    }
  };
  const multiset = (xa: unknown[], ya: unknown[], path: string[]): void => {
    const counts = new Map<string, { n: number; value: unknown }>();
    xa.forEach((v, i) => {
      const key = canonical(v, [...path, String(i)], o);
      const c = counts.get(key);
      if (c) c.n++;
      else counts.set(key, { n: 1, value: v });
    });
    const added: unknown[] = [];
    ya.forEach((v, i) => {
      const key = canonical(v, [...path, String(i)], o);
      const c = counts.get(key);
      if (c && c.n > 0) c.n--;
      else added.push(v);
    });
    const field = pointer([...path, '*']);
    for (const c of counts.values()) for (let i = 0; i < c.n && out.length < o.limit; i++) out.push({ field, kind: 'removed', a: c.value });
    for (const v of added) if (out.length < o.limit) out.push({ field, kind: 'added', b: v });
  };
  walk(a, b, []);
  return out;
}
