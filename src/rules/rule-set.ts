/**
 * The rule language (docs/rules.md): parse and validate a rules YAML into a frozen, compiled
 * RuleSet. Validation reports every problem as FILE:LINE:COL; a RuleSet only exists when the
 * whole file is valid, so an invalid file can never replace the active rules.
 */

import { isMap, type YAMLMap } from 'yaml';
import {
  type Check,
  dict,
  INVALID,
  keyNodeAt,
  list,
  number,
  object,
  opt,
  refine,
  reject,
  req,
  section,
  string,
  unique,
  validateDocument,
} from '../config/schema.js';
import { ConfigError, type ConfigIssue, parseYamlSource } from '../config/yaml-source.js';
import { DEFAULT_ROUTE, type RoutableRoute, type RoutingTable } from '../router/decide.js';
import { compilePathPattern, type PathPattern } from '../router/path-pattern.js';
import { compileHostPattern, compileValueMatcher, type RouteMatch, type ValueMatcher } from '../router/route-match.js';
import { RouteTable } from '../router/route-table.js';
import { compileSplit, type Split } from '../router/split.js';
import { parseStickyKey, type StickyKey } from '../router/sticky-key.js';
import { deepFreeze } from '../util/deep-freeze.js';
import { compileFallback, type FallbackPolicy, fallbackSchema } from './fallback-policy.js';
import { methodName } from './method-name.js';
import { compileRollout, type RolloutPolicy, rolloutSchema } from './rollout-policy.js';
import { compileShadow, type ShadowPolicy, shadowSchema } from './shadow-policy.js';

/** A compiled route: what routing needs, plus the shadow and fallback policies. */
export interface Route extends RoutableRoute {
  shadow?: ShadowPolicy;
  fallback?: FallbackPolicy;
  /** The progressive rollout of this route's split (docs/rollouts.md). */
  rollout?: RolloutPolicy;
}

export interface RuleSet extends RoutingTable<Route> {
  routes: readonly Route[];
  /** The YAML text this rule set was compiled from. */
  text: string;
}

export interface RuleContext {
  /** Backend names from the gateway config, in declaration order (it lays out the split). */
  backends: readonly string[];
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'] as const;
const ROUTE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function compiled<T>(compile: (s: string) => T | string): Check<T> {
  return refine(string(), (value, node, ctx, path) => {
    const out = compile(value);
    return typeof out === 'string' ? reject(ctx, node, path, out) : out;
  });
}

const valueMatchers = (lowerKeys: boolean) => refine(dict(compiled(compileValueMatcher), { lowerKeys }), (v) => Object.entries(v) as [string, ValueMatcher][]);

const stickyKey: Check<StickyKey> = compiled(parseStickyKey);

function ruleSchema(rc: RuleContext) {
  const backendName = refine(string(), (value, node, ctx, path) =>
    rc.backends.includes(value)
      ? value
      : reject(ctx, node, path, `unknown backend ${JSON.stringify(value)} (the gateway config has: ${rc.backends.join(', ')})`),
  );

  const matchSchema = section({
    host: opt(compiled(compileHostPattern)),
    path: opt(compiled<PathPattern>(compilePathPattern)),
    methods: opt(list(methodName(METHODS), { min: 1 })),
    headers: opt(valueMatchers(true)),
    cookies: opt(valueMatchers(false)),
    query: opt(valueMatchers(false)),
  });

  const splitSchema = refine(dict(number({ min: 0, max: 100, decimals: 2 }), { min: 1 }), (weights, node, ctx, path) => {
    let ok = true;
    for (const name of Object.keys(weights)) {
      if (!rc.backends.includes(name)) {
        ok = false;
        reject(ctx, keyNodeAt(node, name), `${path}.${name}`, `unknown backend ${JSON.stringify(name)} (the gateway config has: ${rc.backends.join(', ')})`);
      }
    }
    const sum = Object.values(weights).reduce((a, w) => a + Math.round(w * 100), 0);
    if (sum !== 10_000) return reject(ctx, node, path, `weights sum to ${sum / 100}, not 100`);
    return ok ? weights : INVALID;
  });

  const routeSchema = refine(
    object({
      name: req(string({ pattern: ROUTE_NAME, patternHint: 'a route name (letters, digits, _.-, at most 64)' })),
      match: opt(matchSchema),
      split: opt(splitSchema),
      backend: opt(backendName),
      sticky: opt(stickyKey),
      salt: opt(string({ nonEmpty: true })),
      shadow: opt(shadowSchema(backendName)),
      fallback: opt(fallbackSchema(backendName)),
      rollout: opt(rolloutSchema(backendName)),
    }),
    (r, node, ctx, path) => {
      if ((r.split === undefined) === (r.backend === undefined)) {
        return reject(ctx, node, path, 'a route has exactly one of "split" or "backend"');
      }
      const to = r.fallback?.to;
      if (to !== undefined && (r.backend === to || (r.split && Object.entries(r.split).every(([b, w]) => b === to || w === 0)))) {
        return reject(
          ctx,
          keyNodeAt(node, 'fallback'),
          `${path}.fallback.to`,
          `${JSON.stringify(to)} is the only backend this route sends to: a fallback is another backend`,
        );
      }
      if (!r.rollout) return { ...r, rolloutPolicy: undefined };
      const block = isMap(node) ? (node as YAMLMap).get('rollout', true) : node;
      const rolloutPolicy = compileRollout(r.rollout, r, (key, message) =>
        reject(ctx, key ? keyNodeAt(block, key) : block, key ? `${path}.rollout.${key}` : `${path}.rollout`, message),
      );
      return rolloutPolicy ? { ...r, rolloutPolicy } : INVALID;
    },
  );

  return object({
    default: req(backendName),
    routes: opt(
      unique('name', list(routeSchema), (name) => (name === DEFAULT_ROUTE ? `"${DEFAULT_ROUTE}" is reserved for requests that match no route` : undefined)),
      [],
    ),
  });
}

const NO_MATCHERS: [string, ValueMatcher][] = Object.freeze([]) as unknown as [string, ValueMatcher][];

/** Parses and compiles a rules file; throws ConfigError listing every problem. */
export function parseRuleSet(text: string, file: string, rc: RuleContext): RuleSet {
  const src = parseYamlSource(text, file);
  const raw = validateDocument(src, ruleSchema(rc));
  // Shared, frozen: 10,000 routes mostly have the same split and no header/cookie/query
  // matchers; one object each instead of one per route (issue 14: the rule set's heap).
  const splits = new Map<string, Split>();
  const splitOf = (percent: Record<string, number>) => {
    const key = JSON.stringify(percent);
    let s = splits.get(key);
    if (!s) splits.set(key, (s = compileSplit(percent, rc.backends)));
    return s;
  };
  const routes: Route[] = raw.routes.map((r) => {
    const m = r.match as {
      host?: RouteMatch['host'];
      path?: PathPattern;
      methods?: string[];
      headers?: [string, ValueMatcher][];
      cookies?: [string, ValueMatcher][];
      query?: [string, ValueMatcher][];
    };
    return {
      name: r.name,
      match: {
        host: m.host,
        path: m.path,
        methods: m.methods && new Set(m.methods),
        headers: m.headers ?? NO_MATCHERS,
        cookies: m.cookies ?? NO_MATCHERS,
        query: m.query ?? NO_MATCHERS,
      },
      split: splitOf(r.split ?? { [r.backend!]: 100 }),
      sticky: r.sticky,
      salt: r.salt ?? r.name,
      shadow: r.shadow && compileShadow(r.shadow),
      fallback: r.fallback && compileFallback(r.fallback),
      rollout: r.rolloutPolicy,
    };
  });
  const ruleSet: RuleSet = { default: raw.default, routes, table: new RouteTable(routes), text };
  deepFreeze(routes);
  return Object.freeze(ruleSet);
}

/** Validation only: the list of problems, empty when the file is valid. */
export function validateRuleText(text: string, file: string, rc: RuleContext): readonly ConfigIssue[] {
  try {
    parseRuleSet(text, file, rc);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
}
