/**
 * What `/readyz` answers (docs/resilience.md): ready when a rule set is loaded and every backend
 * the active rules can send traffic to is up (has an available host), or the route's fallback is.
 * The assessment is a pure function of the rules and each backend's up/down, so that it is tested
 * on its own; the admin route adds each backend's hosts to the body.
 */
import type { RuleSet } from '../rules/rule-set.js';

export interface RouteAssessment {
  /** Routes that send traffic to a backend that is down, with no fallback that is up. */
  unserved: { route: string; backend: string }[];
  /** Routes whose backend is down but whose fallback is up and takes the traffic. */
  onFallback: { route: string; backend: string; fallback: string }[];
  /** The backends the rules can send traffic to. */
  used: string[];
}

export function assessRoutes(rules: RuleSet, up: (backend: string) => boolean): RouteAssessment {
  const out: RouteAssessment = { unserved: [], onFallback: [], used: [] };
  const used = new Set<string>([rules.default]);
  if (!up(rules.default)) out.unserved.push({ route: 'default', backend: rules.default });
  for (const route of rules.routes) {
    for (const [backend, weight] of Object.entries(route.split.percent)) {
      if (weight <= 0) continue;
      used.add(backend);
      if (up(backend)) continue;
      const fb = route.fallback?.to;
      if (fb !== undefined && fb !== backend && up(fb)) out.onFallback.push({ route: route.name, backend, fallback: fb });
      else out.unserved.push({ route: route.name, backend });
    }
  }
  out.used = [...used];
  return out;
}
