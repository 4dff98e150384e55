/**
 * The routing decision: which route a request matches and which backend serves it. A pure
 * function of the rule set, the request's facts and a random source, so that the gateway,
 * `switchyard explain` and the tests all run the same code.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestFacts } from './request-facts.js';
import type { RouteMatch } from './route-match.js';
import type { RouteTable } from './route-table.js';
import { backendForBucket, bucketOf, randomBucket, type Split } from './split.js';
import { type StickyKey, stickyValue } from './sticky-key.js';

/** The route name reported (metrics, logs, explain) for requests that match no route. */
export const DEFAULT_ROUTE = 'default';

/** What routing needs of a compiled route; the rule set's routes carry more (rules/rule-set.ts). */
export interface RoutableRoute {
  name: string;
  match: RouteMatch;
  split: Split;
  sticky?: StickyKey;
  /** Hash salt for the bucket; the route name unless set. */
  salt: string;
}

/** What routing needs of a compiled rule set. */
export interface RoutingTable<R extends RoutableRoute> {
  default: string;
  table: RouteTable<R>;
}

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

export interface Decision<R extends RoutableRoute = RoutableRoute> {
  route: R | undefined;
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

type Override = { readonly backend?: string; readonly rejected: boolean };
// Built once: every request without an override header gets the same answer.
const NO_OVERRIDE: Override = Object.freeze({ rejected: false });
const REJECTED: Override = Object.freeze({ rejected: true });

function overrideFor(facts: RequestFacts, opts: DecideOptions): Override {
  const forced = facts.headers[FORCE_HEADER];
  if (forced === undefined) return NO_OVERRIDE;
  const token = facts.headers[TOKEN_HEADER];
  if (!opts.overrideTokenDigest || typeof token !== 'string' || typeof forced !== 'string' || !opts.backends.has(forced)) {
    return REJECTED;
  }
  // Compare digests so the comparison takes the same time whatever the length of the guess.
  const given = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, opts.overrideTokenDigest) ? { backend: forced, rejected: false } : REJECTED;
}

export function decide<R extends RoutableRoute>(rules: RoutingTable<R>, facts: RequestFacts, opts: DecideOptions): Decision<R> {
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
