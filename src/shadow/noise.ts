/**
 * Noise learning (Diffy's idea without a second legacy fleet): a sample of requests is sent a
 * second time to the backend that served them; fields that differ between two answers of the
 * same backend are noise for that route. Fields are generalized (array indices become `*`).
 */
import { type FieldDiff, generalizeField } from '../diff/compare.js';

const MAX_NOISE_FIELDS = 200;

export class NoiseLearner {
  private readonly byRoute = new Map<string, Set<string>>();

  learn(route: string, diffs: readonly FieldDiff[]): void {
    let set = this.byRoute.get(route);
    if (!set) this.byRoute.set(route, (set = new Set()));
    for (const d of diffs) if (set.size < MAX_NOISE_FIELDS) set.add(generalizeField(d.field));
  }

  isNoise(route: string, field: string): boolean {
    return this.byRoute.get(route)?.has(field) ?? false;
  }

  fields(route: string): string[] {
    return [...(this.byRoute.get(route) ?? [])].sort();
  }
}
