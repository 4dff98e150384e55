/**
 * The routing decision: which route a request matches and which backend serves it. A pure
 * function of the rule set, the request's facts and a random source, so that the gateway,
 * `switchyard explain` and the tests all run the same code.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { DEFAULT_ROUTE, type Route, type RuleSet, type StickyKey } from '../rules/rule-set.js';
import { cookieValue, headerValue, queryValue, type RequestFacts } from '../rules/request-facts.js';
import { backendForBucket, bucketOf, randomBucket } from '../rules/split.js';

export const FORCE_HEADER = 'x-switchyard-force';
export const TOKEN_HEADER = 'x-switchyard-token';

/** How the backend was chosen. */
export type Placement =
  /** The route sends everything to one backend. */
  | 'fixed'
  /** Bucket from the sticky key's hash. */
  | 'sticky'
  /** The route is split but the request had no sticky key value (or the route has no sticky key). */
  | 'random'
  /** A tester forced the backend with a valid override token. */
  | 'override';

export interface Decision {
  route: Route | undefined;
  /** The route's name, or "default". */
  routeName: string;
  backend: string;
  placement: Placement;
  /** The sticky key's value, when the route has one and the request carries it. */
  stickyValue?: string;
  bucket?: number;
  /** An override header was present but not honoured (bad or missing token, unknown backend). */
  overrideRejected: boolean;
}

export interface DecideOptions {
  /** The configured override token; empty disables overrides. */
  overrideTokenDigest?: Buffer;
  backends: ReadonlySet<string>;
  random?: () => number;
}

export function digestToken(token: string): Buffer | undefined {
  return token ? createHash('sha256').update(token).digest() : undefined;
}

export function stickyValue(key: StickyKey, facts: RequestFacts): string | undefined {
  let v: string | undefined;
  switch (key.kind) {
    case 'header':
      v = headerValue(facts, key.name);
      break;
    case 'cookie':
      v = cookieValue(facts, key.name);
      break;
    case 'query':
      v = queryValue(facts, key.name);
      break;
    case 'ip':
      v = facts.remoteAddress;
      break;
  }
  return v === '' ? undefined : v;
}

function overrideFor(facts: RequestFacts, opts: DecideOptions): { backend?: string; rejected: boolean } {
  const forced = facts.headers[FORCE_HEADER];
  if (forced === undefined) return { rejected: false };
  const token = facts.headers[TOKEN_HEADER];
  if (!opts.overrideTokenDigest || typeof token !== 'string' || typeof forced !== 'string' || !opts.backends.has(forced)) {
    return { rejected: true };
  }
  // Compare digests so the comparison takes the same time whatever the length of the guess.
  const given = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, opts.overrideTokenDigest) ? { backend: forced, rejected: false } : { rejected: true };
}

export function decide(rules: RuleSet, facts: RequestFacts, opts: DecideOptions): Decision {
  const route = rules.table.find(facts);
  const routeName = route ? route.name : DEFAULT_ROUTE;
  const override = overrideFor(facts, opts);
  if (override.backend) {
    return { route, routeName, backend: override.backend, placement: 'override', overrideRejected: false };
  }
  if (!route) return { route, routeName, backend: rules.default, placement: 'fixed', overrideRejected: override.rejected };
  if (route.split.single) {
    return { route, routeName, backend: route.split.single, placement: 'fixed', overrideRejected: override.rejected };
  }
  const value = route.sticky && stickyValue(route.sticky, facts);
  const bucket = value === undefined ? randomBucket(opts.random) : bucketOf(route.salt, value);
  return {
    route,
    routeName,
    backend: backendForBucket(route.split, bucket),
    placement: value === undefined ? 'random' : 'sticky',
    stickyValue: value,
    bucket,
    overrideRejected: override.rejected,
  };
}
