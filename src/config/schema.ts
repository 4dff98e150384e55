/**
 * A small schema language that validates a YAML document tree and turns it into frozen typed
 * values. Every check reports at the node it looked at, so messages carry FILE:LINE:COL, and
 * checks keep going after a failure so that one run reports every problem in the file.
 */
import { isAlias, isMap, isScalar, isSeq, type Pair, type YAMLMap } from 'yaml';
import { ConfigError, type ConfigIssue, parseYamlSource, positionOf, type YamlSource } from './yaml-source.js';

/** Returned by a check whose input was invalid; the issue has already been reported. */
export const INVALID: unique symbol = Symbol('invalid');
export type Invalid = typeof INVALID;

export interface CheckContext {
  src: YamlSource;
  /** Environment for `${VAR}` interpolation (gateway, pipeline and products configs); absent = none (rules). */
  env?: Record<string, string | undefined>;
  report(node: unknown, path: string, message: string): void;
}

export type Check<T> = (node: unknown, ctx: CheckContext, path: string) => T | Invalid;

export function createContext(src: YamlSource, env?: Record<string, string | undefined>): CheckContext {
  return {
    src,
    env,
    report(node, path, message) {
      const { line, col } = positionOf(src, node);
      src.issues.push({ file: src.file, line, col, path, message });
    },
  };
}

/** Validates a whole document with `check`; throws ConfigError carrying every issue. */
export function validateDocument<T>(src: YamlSource, check: Check<T>, env?: Record<string, string | undefined>): T {
  if (src.issues.length === 0) {
    const ctx = createContext(src, env);
    const value = check(src.doc.contents, ctx, '');
    if (value !== INVALID && src.issues.length === 0) return value;
    // Rebuilt from a child's values (yaml-source.ts): parse here for the positions of the problems.
    if (!src.positioned) return validateDocument(parseYamlSource(src.text, src.file, false), check, env);
  }
  if (src.issues.length === 0) src.issues.push({ file: src.file, line: 1, col: 1, path: '', message: 'invalid' });
  throw new ConfigError(sortIssues(src.issues));
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
}

export function deref(node: unknown, ctx: CheckContext): unknown {
  return isAlias(node) ? node.resolve(ctx.src.doc) : node;
}

function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function describe(node: unknown): string {
  if (node == null) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    return v === null ? 'null' : typeof v === 'string' ? 'a string' : `${typeof v} ${String(v)}`;
  }
  return 'an unknown node';
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** A string scalar; numbers and booleans are refused so that `port: yes` surprises nobody. */
export function string(opts: { pattern?: RegExp; patternHint?: string; nonEmpty?: boolean } = {}): Check<string> {
  return (raw, ctx, path) => {
    const node = deref(raw, ctx);
    if (!isScalar(node) || typeof node.value !== 'string') {
      ctx.report(raw, path, `expected a string, got ${describe(node)}`);
      return INVALID;
    }
    let value = node.value;
    if (ctx.env) {
      let missing: string | undefined;
      value = value.replace(ENV_REF, (_m, name: string, fallback?: string) => {
        const v = ctx.env![name];
        if (v !== undefined && v !== '') return v;
        if (fallback !== undefined) return fallback;
        missing ??= name;
        return '';
      });
      if (missing) {
        ctx.report(raw, path, `environment variable ${missing} is not set (use \${${missing}:-default} for a default)`);
        return INVALID;
      }
    }
    if (opts.nonEmpty && value === '') {
      ctx.report(raw, path, 'must not be empty');
      return INVALID;
    }
    if (opts.pattern && !opts.pattern.test(value)) {
      ctx.report(raw, path, `${JSON.stringify(value)} is not ${opts.patternHint ?? `of the form ${opts.pattern}`}`);
      return INVALID;
    }
    return value;
  };
}

export function number(opts: { min?: number; max?: number; integer?: boolean; decimals?: number } = {}): Check<number> {
  return (raw, ctx, path) => {
    const node = deref(raw, ctx);
    if (!isScalar(node) || typeof node.value !== 'number' || !Number.isFinite(node.value)) {
      ctx.report(raw, path, `expected a number, got ${describe(node)}`);
      return INVALID;
    }
    const v = node.value;
    if (opts.integer && !Number.isInteger(v)) return fail(ctx, raw, path, `expected a whole number, got ${v}`);
    if (opts.decimals !== undefined && Math.abs(v * 10 ** opts.decimals - Math.round(v * 10 ** opts.decimals)) > 1e-6) {
      return fail(ctx, raw, path, `${v} has more than ${opts.decimals} decimals`);
    }
    if (opts.min !== undefined && v < opts.min) return fail(ctx, raw, path, `${v} is below the minimum ${opts.min}`);
    if (opts.max !== undefined && v > opts.max) return fail(ctx, raw, path, `${v} is above the maximum ${opts.max}`);
    return v;
  };
}

export function boolean(): Check<boolean> {
  return (raw, ctx, path) => {
    const node = deref(raw, ctx);
    if (!isScalar(node) || typeof node.value !== 'boolean') {
      ctx.report(raw, path, `expected true or false, got ${describe(node)}`);
      return INVALID;
    }
    return node.value;
  };
}

export function oneOf<const T extends string>(values: readonly T[]): Check<T> {
  const str = string();
  return (raw, ctx, path) => {
    const v = str(raw, ctx, path);
    if (v === INVALID) return v;
    if (!(values as readonly string[]).includes(v)) {
      return fail(ctx, raw, path, `${JSON.stringify(v)} is not one of ${values.join(', ')}`);
    }
    return v as T;
  };
}

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;
/** A duration as "250ms", "2s", "1m", "3h", or a bare number of milliseconds. Returns milliseconds. */
export function duration(opts: { min?: number; max?: number } = {}): Check<number> {
  return (raw, ctx, path) => {
    const node = deref(raw, ctx);
    let ms: number | undefined;
    if (isScalar(node) && typeof node.value === 'number') ms = node.value;
    else if (isScalar(node) && typeof node.value === 'string') {
      const m = DURATION.exec(node.value.trim());
      if (m) ms = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 3_600_000);
    }
    if (ms === undefined || !Number.isFinite(ms)) {
      return fail(ctx, raw, path, `expected a duration such as "500ms" or "2s", got ${describe(node)}`);
    }
    if (opts.min !== undefined && ms < opts.min) return fail(ctx, raw, path, `${ms}ms is below the minimum ${opts.min}ms`);
    if (opts.max !== undefined && ms > opts.max) return fail(ctx, raw, path, `${ms}ms is above the maximum ${opts.max}ms`);
    return ms;
  };
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?$/i;
const UNITS: Record<string, number> = { b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3, gib: 1024 ** 3 };
/** A byte size as "1mb", "512kb" (binary units) or a bare number of bytes. */
export function size(opts: { max?: number } = {}): Check<number> {
  return (raw, ctx, path) => {
    const node = deref(raw, ctx);
    let bytes: number | undefined;
    if (isScalar(node) && typeof node.value === 'number') bytes = node.value;
    else if (isScalar(node) && typeof node.value === 'string') {
      const m = SIZE.exec(node.value.trim());
      if (m) bytes = Math.floor(Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()]!);
    }
    if (bytes === undefined || bytes < 0) return fail(ctx, raw, path, `expected a size such as "1mb" or "64kb", got ${describe(node)}`);
    if (opts.max !== undefined && bytes > opts.max) return fail(ctx, raw, path, `${bytes} bytes is above the maximum ${opts.max}`);
    return bytes;
  };
}

export function list<T>(item: Check<T>, opts: { min?: number; max?: number } = {}): Check<T[]> {
  return (raw, ctx, path) => {
    const node = deref(raw, ctx);
    if (!isSeq(node)) {
      ctx.report(raw, path, `expected a list, got ${describe(node)}`);
      return INVALID;
    }
    const out: T[] = [];
    let ok = true;
    node.items.forEach((it, i) => {
      const v = item(it, ctx, child(path, i));
      if (v === INVALID) ok = false;
      else out.push(v);
    });
    if (opts.min !== undefined && node.items.length < opts.min) return fail(ctx, raw, path, `needs at least ${opts.min} item(s)`);
    if (opts.max !== undefined && node.items.length > opts.max) return fail(ctx, raw, path, `allows at most ${opts.max} items`);
    return ok ? out : INVALID;
  };
}

function pairsOf(raw: unknown, ctx: CheckContext, path: string): Pair<unknown, unknown>[] | Invalid {
  const node = deref(raw, ctx);
  if (!isMap(node)) {
    ctx.report(raw, path, `expected a mapping, got ${describe(node)}`);
    return INVALID;
  }
  return (node as YAMLMap<unknown, unknown>).items;
}

function keyOf(pair: Pair<unknown, unknown>): string | undefined {
  const k = pair.key;
  return isScalar(k) && (typeof k.value === 'string' || typeof k.value === 'number') ? String(k.value) : undefined;
}

/** A mapping with free-form keys (backend names, header names) and uniform values. */
export function dict<T>(value: Check<T>, opts: { key?: RegExp; keyHint?: string; lowerKeys?: boolean; min?: number } = {}): Check<Record<string, T>> {
  return (raw, ctx, path) => {
    const pairs = pairsOf(raw, ctx, path);
    if (pairs === INVALID) return pairs;
    const out: Record<string, T> = Object.create(null);
    let ok = true;
    for (const pair of pairs) {
      let key = keyOf(pair);
      if (key === undefined || (opts.key && !opts.key.test(key))) {
        ctx.report(pair.key, path, `key ${JSON.stringify(key ?? null)} is not ${opts.keyHint ?? 'a valid name'}`);
        ok = false;
        continue;
      }
      if (opts.lowerKeys) key = key.toLowerCase();
      const v = value(pair.value, ctx, child(path, key));
      if (v === INVALID) ok = false;
      else out[key] = v;
    }
    if (opts.min !== undefined && pairs.length < opts.min) return fail(ctx, raw, path, `needs at least ${opts.min} entr${opts.min === 1 ? 'y' : 'ies'}`);
    return ok ? out : INVALID;
  };
}

export interface Field<T> {
  check: Check<T>;
  required?: boolean;
  default?: T;
}
type Fields = Record<string, Field<unknown>>;
type Shape<F extends Fields> = {
  [K in keyof F]: F[K] extends Field<infer T> ? (F[K] extends { required: true } | { default: unknown } ? T : T | undefined) : never;
};

export function req<T>(check: Check<T>): Field<T> & { required: true } {
  return { check, required: true };
}
export function opt<T>(check: ObjectCheck<T>): Field<T> & { default: T };
export function opt<T>(check: Check<T>): Field<T>;
export function opt<T>(check: Check<T>, defaultValue: T): Field<T> & { default: T };
export function opt<T>(check: Check<T> | ObjectCheck<T>, defaultValue?: T): Field<T> {
  const fallback = defaultValue ?? (check as Partial<ObjectCheck<T>>).defaults;
  return fallback === undefined ? { check } : { check, default: fallback };
}

/** An object check whose fields are all optional knows its own defaults: `opt(check)` uses them. */
export type ObjectCheck<T> = Check<T> & { defaults: T };

/** A mapping with a fixed set of keys; unknown keys are errors that name the keys allowed. */
export function object<F extends Fields>(fields: F): Check<Shape<F>> {
  const allowed = Object.keys(fields);
  return (raw, ctx, path) => {
    const pairs = pairsOf(raw, ctx, path);
    if (pairs === INVALID) return pairs;
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    let ok = true;
    for (const pair of pairs) {
      const key = keyOf(pair);
      const field = key === undefined ? undefined : fields[key];
      if (key === undefined || !field || !Object.hasOwn(fields, key)) {
        ctx.report(pair.key, child(path, key ?? '?'), `unknown key (expected one of: ${allowed.join(', ')})`);
        ok = false;
        continue;
      }
      seen.add(key);
      const v = field.check(pair.value, ctx, child(path, key));
      if (v === INVALID) ok = false;
      else out[key] = v;
    }
    for (const [key, field] of Object.entries(fields)) {
      if (seen.has(key)) continue;
      if (field.required) {
        ctx.report(raw, child(path, key), 'is required');
        ok = false;
      } else if (field.default !== undefined) out[key] = field.default;
    }
    return ok ? (out as Shape<F>) : INVALID;
  };
}

/**
 * An object whose keys are all optional and which is itself present with its defaults when
 * absent: `opt(section({...}))` yields the defaults for a missing key.
 */
// Required keys make no sense in a section; req() fields are reported as missing like in object().
export function section<F extends Fields>(fields: F): ObjectCheck<Shape<F>> {
  const check = object(fields) as ObjectCheck<Shape<F>>;
  const defaults: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(fields)) if (field.default !== undefined) defaults[key] = field.default;
  check.defaults = defaults as Shape<F>;
  return check;
}

/** Runs `check`, then `rule` on the typed value; `rule` reports through `ctx` and may return INVALID. */
export function refine<T, U = T>(check: Check<T>, rule: (value: T, node: unknown, ctx: CheckContext, path: string) => U | Invalid): Check<U> {
  return (raw, ctx, path) => {
    const v = check(raw, ctx, path);
    return v === INVALID ? INVALID : rule(v, deref(raw, ctx), ctx, path);
  };
}

/**
 * Checks a list whose items are mappings with a `key` field that must be unique, reporting
 * duplicates (and values `reserved` refuses) at their own nodes, also when other parts of the
 * same items are invalid.
 */
export function unique<T>(key: string, check: Check<T>, reserved?: (value: string) => string | undefined): Check<T> {
  return (raw, ctx, path) => {
    const node = deref(raw, ctx);
    if (isSeq(node)) {
      const seen = new Map<string, number>();
      node.items.forEach((item, i) => {
        const valueNode = isMap(item) ? (item as YAMLMap).get(key, true) : undefined;
        if (!isScalar(valueNode) || (typeof valueNode.value !== 'string' && typeof valueNode.value !== 'number')) return;
        const value = String(valueNode.value);
        const refused = reserved?.(value);
        if (refused) ctx.report(valueNode, `${path}[${i}].${key}`, refused);
        else if (seen.has(value))
          ctx.report(valueNode, `${path}[${i}].${key}`, `duplicate ${key} ${JSON.stringify(value)} (first at ${path}[${seen.get(value)}])`);
        else seen.set(value, i);
      });
    }
    return check(raw, ctx, path);
  };
}

/** The key node (not the value) for `key` in a mapping node. */
export function keyNodeAt(node: unknown, key: string): unknown {
  if (!isMap(node)) return node;
  const pair = (node as YAMLMap).items.find((p) => keyOf(p as Pair<unknown, unknown>) === key);
  return pair?.key ?? node;
}

function fail(ctx: CheckContext, node: unknown, path: string, message: string): Invalid {
  ctx.report(node, path, message);
  return INVALID;
}

/** Used by `refine` callbacks. */
export function reject(ctx: CheckContext, node: unknown, path: string, message: string): Invalid {
  return fail(ctx, node, path, message);
}
