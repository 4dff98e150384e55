/** Which requests of a route are copied, and where to: pure decisions, unit-tested. */
import { bucketOf, randomBucket } from '../router/split.js';
import type { Route } from '../rules/rule-set.js';
import type { ShadowPolicy } from '../rules/shadow-policy.js';

/** The backend a copy goes to: `to`, or the other of legacy/pipeline, or the next one declared. */
export function shadowTarget(policy: ShadowPolicy, served: string, backends: readonly string[]): string | undefined {
  if (policy.to) return policy.to;
  if (served === 'legacy' && backends.includes('pipeline')) return 'pipeline';
  if (served === 'pipeline' && backends.includes('legacy')) return 'legacy';
  return backends.find((b) => b !== served);
}

/** Whether this request is sampled; with a sticky key, the same keys stay sampled. */
export function isSampled(policy: ShadowPolicy, route: Route, stickyValue: string | undefined, random: () => number = Math.random): boolean {
  if (policy.percent >= 100) return true;
  if (policy.percent <= 0) return false;
  const bucket = stickyValue === undefined ? randomBucket(random) : bucketOf(`${route.salt}:shadow`, stickyValue);
  return bucket < policy.percent * 100;
}
