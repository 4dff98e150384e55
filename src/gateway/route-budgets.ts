/**
 * One retry budget per route (forward/retry-budget.ts), kept across rule reloads by route name so
 * that a reload in the middle of an outage does not hand out a fresh budget. Each route's share
 * comes from its `fallback.budget`, or the default for a route without a fallback (whose
 * backend's host retries still draw from it). Built once; a request only looks its route up.
 */
import { RetryBudget } from '../forward/retry-budget.js';
import { DEFAULT_ROUTE } from '../router/decide.js';
import { DEFAULT_BUDGET } from '../rules/fallback-policy.js';
import type { RuleSet } from '../rules/rule-set.js';

export class RouteBudgets {
  private readonly byRoute = new Map<string, RetryBudget>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The route's budget; created with the defaults for a route not seen yet. */
  get(route: string): RetryBudget {
    let b = this.byRoute.get(route);
    if (!b) this.byRoute.set(route, (b = new RetryBudget(DEFAULT_BUDGET.ratio, DEFAULT_BUDGET.min, this.now)));
    return b;
  }

  /** Takes the shares of a new rule set; routes it no longer has are forgotten. */
  apply(rules: RuleSet): void {
    const names = new Set([DEFAULT_ROUTE]);
    for (const route of rules.routes) {
      names.add(route.name);
      const b = this.get(route.name);
      b.ratio = route.fallback?.budget ?? DEFAULT_BUDGET.ratio;
      b.min = route.fallback?.budgetMin ?? DEFAULT_BUDGET.min;
    }
    for (const name of this.byRoute.keys()) if (!names.has(name)) this.byRoute.delete(name);
  }
}
