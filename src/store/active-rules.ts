/**
 * The rule set in force. Swapping is one assignment of a frozen object, so a request sees the old
 * table or the new one, never a mix; a request keeps the table it started with to the end.
 * A rule set that failed validation never reaches this object, so the last good one stays.
 */
import type { Metrics } from '../metrics/catalogue.js';
import type { RuleSet } from '../rules/rule-set.js';

export type RulesSource = 'redis' | 'snapshot' | 'file';
export const RULE_SOURCES: readonly RulesSource[] = ['redis', 'snapshot', 'file'];

export interface ActiveMeta {
  /** Version in the rules store; 0 for a rule set read from a file. */
  version: number;
  source: RulesSource;
  appliedAt: Date;
  /** Free text shown on /readyz (for example why the store was not used). */
  note?: string;
}

export class ActiveRules {
  private current: RuleSet | undefined;
  private currentMeta: ActiveMeta | undefined;
  private readonly listeners: ((rules: RuleSet, meta: ActiveMeta) => void)[] = [];

  constructor(private readonly metrics?: Metrics) {}

  get rules(): RuleSet | undefined {
    return this.current;
  }

  get meta(): ActiveMeta | undefined {
    return this.currentMeta;
  }

  apply(rules: RuleSet, meta: Omit<ActiveMeta, 'appliedAt'>): void {
    const previous = this.current;
    this.current = rules;
    this.currentMeta = Object.freeze({ ...meta, appliedAt: new Date() });
    const m = this.metrics;
    if (m) {
      m.rulesVersion.set(meta.version);
      for (const s of RULE_SOURCES) m.rulesSource.set({ source: s }, s === meta.source ? 1 : 0);
      if (previous) m.routeWeight.reset();
      for (const route of rules.routes) {
        for (const [backend, percent] of Object.entries(route.split.percent)) m.routeWeight.set({ route: route.name, backend }, percent);
      }
    }
    for (const l of this.listeners) l(rules, this.currentMeta);
  }

  onApply(listener: (rules: RuleSet, meta: ActiveMeta) => void): void {
    this.listeners.push(listener);
  }
}
