/**
 * Structural JSON diff: the JSON Pointer (RFC 6901) of every added, removed and changed value,
 * type changes included. Pure; the comparer feeds it bodies parsed by parseJsonExact and the
 * route's policy. Numbers are compared as exact decimals, strings by code points (UTF-16 code
 * unit equality is code point equality); see docs/shadow.md.
 */
import type { PointerPattern } from './compare-policy.js';
import { decimalKey, parseDecimal, withinTolerance, type Decimal } from './decimal.js';
import { ExactNumber, toPlainJson, type JsonNumber } from './exact-json.js';

export type DiffKind = 'changed' | 'added' | 'removed' | 'type';

/**
 * One differing field. `a` is the serving backend's value, `b` the shadow's, as plain JSON
 * values: a number a JS number cannot hold exactly is given as a string of its digits.
 */
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
  return v === null ? 'null' : Array.isArray(v) ? 'array' : v instanceof ExactNumber ? 'number' : typeof v;
}

function decimalOf(n: JsonNumber): Decimal {
  return typeof n === 'number' ? parseDecimal(String(n)) : n.decimal;
}

/**
 * Exact: a JS number from parseJsonExact spells its decimal exactly, so two of them are equal
 * exactly when `===` says so (and `-0 === 0`, as the decimals are); an ExactNumber never equals
 * a JS number, and two of them are equal when their decimals are.
 */
function numbersEqual(x: JsonNumber, y: JsonNumber, tolerance: Decimal | undefined): boolean {
  if (typeof x === 'number' && typeof y === 'number' && (x === y || !tolerance)) return x === y;
  return tolerance ? withinTolerance(decimalOf(x), decimalOf(y), tolerance) : decimalKey(decimalOf(x)) === decimalKey(decimalOf(y));
}

/** A stable text form of a value, without ignored fields, for multiset comparison. */
function canonical(v: unknown, path: string[], o: JsonDiffOptions): string {
  if (Array.isArray(v)) return '[' + v.map((x, i) => canonical(x, [...path, String(i)], o)).join(',') + ']';
  // An ExactNumber's key cannot collide with JSON text: nothing there starts with '#' outside a string.
  if (v instanceof ExactNumber) return '#' + decimalKey(v.decimal);
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
  // The policy's tolerance as the decimal it was written as (YAML `0.001` prints back as 0.001).
  const tolerance = o.numericTolerance > 0 ? parseDecimal(String(o.numericTolerance)) : undefined;
  const walk = (x: unknown, y: unknown, path: string[]): void => {
    if (out.length >= o.limit) return;
    if (path.length && o.ignore.some((p) => matchesPointer(p, path))) return;
    const tx = typeOf(x);
    const ty = typeOf(y);
    if (tx !== ty) {
      out.push({ field: pointer(path), kind: 'type', a: toPlainJson(x), b: toPlainJson(y) });
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
        if (i >= ya.length) out.push({ field: pointer(p), kind: 'removed', a: toPlainJson(xa[i]) });
        else if (i >= xa.length) out.push({ field: pointer(p), kind: 'added', b: toPlainJson(ya[i]) });
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
          if (!o.ignore.some((pat) => matchesPointer(pat, p))) out.push({ field: pointer(p), kind: 'removed', a: toPlainJson(xo[k]) });
        } else walk(xo[k], yo[k], p);
        if (out.length >= o.limit) return;
      }
      for (const k of Object.keys(yo)) {
        if (Object.hasOwn(xo, k)) continue;
        const p = [...path, k];
        if (!o.ignore.some((pat) => matchesPointer(pat, p))) out.push({ field: pointer(p), kind: 'added', b: toPlainJson(yo[k]) });
        if (out.length >= o.limit) return;
      }
      return;
    }
    if (tx === 'number' ? !numbersEqual(x as JsonNumber, y as JsonNumber, tolerance) : x !== y) {
      out.push({ field: pointer(path), kind: 'changed', a: toPlainJson(x), b: toPlainJson(y) });
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
    for (const c of counts.values()) for (let i = 0; i < c.n && out.length < o.limit; i++) out.push({ field, kind: 'removed', a: toPlainJson(c.value) });
    for (const v of added) if (out.length < o.limit) out.push({ field, kind: 'added', b: toPlainJson(v) });
  };
  walk(a, b, []);
  return out;
}
