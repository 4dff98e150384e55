/**
 * Counters and histograms for the per-request hot path. prom-client hashes a label object on
 * every update (and allocates doing it); in a CPU profile of the gateway under load its updates
 * cost about as much as the rest of the request lifecycle. These keep one cell per combination
 * of label values, found by a joined string key, and implement prom-client's metric interface
 * (`get()`, `reset()`) so that the registry, /metrics and the cluster aggregator read them like
 * any other metric. Label values must be bounded, as everywhere in the catalogue.
 */
import type { Registry } from 'prom-client';

interface Value {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

abstract class HotMetric<L extends string> {
  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
  ) {}

  protected key(values: readonly string[]): string {
    return values.length === 1 ? values[0]! : values.join('\u0000');
  }

  protected labelsOf(values: readonly string[]): Record<string, string> {
    const labels: Record<string, string> = {};
    this.labelNames.forEach((n, i) => {
      labels[n] = values[i] ?? '';
    });
    return labels;
  }

  abstract get(): Promise<{ name: string; help: string; type: string; values: Value[]; aggregator: string }>;
  abstract reset(): void;

  /** Registers with a prom-client registry, which reads it through get(). */
  register(registry: Registry): this {
    registry.registerMetric(this as never);
    return this;
  }
}

export class HotCounter<L extends string> extends HotMetric<L> {
  readonly type = 'counter';
  private cells = new Map<string, { labels: Record<string, string>; value: number }>();

  /** Label values in `labelNames` order. */
  inc(...values: string[]): void {
    const k = this.key(values);
    const cell = this.cells.get(k);
    if (cell) cell.value++;
    else this.cells.set(k, { labels: this.labelsOf(values), value: 1 });
  }

  async get() {
    const values = [...this.cells.values()].map((c) => ({ labels: { ...c.labels }, value: c.value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.cells = new Map();
  }
}

export class HotHistogram<L extends string> extends HotMetric<L> {
  readonly type = 'histogram';
  private cells = new Map<string, { labels: Record<string, string>; counts: Float64Array; sum: number; count: number }>();

  constructor(
    name: string,
    help: string,
    labelNames: readonly L[],
    readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames);
  }

  /** The observed value first, then label values in `labelNames` order. */
  observe(value: number, ...values: string[]): void {
    const k = this.key(values);
    let cell = this.cells.get(k);
    if (!cell) this.cells.set(k, (cell = { labels: this.labelsOf(values), counts: new Float64Array(this.buckets.length), sum: 0, count: 0 }));
    const b = this.buckets;
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]!) {
        cell.counts[i]!++;
        break;
      }
    }
    cell.sum += value;
    cell.count++;
  }

  async get() {
    const values: Value[] = [];
    const bucket = `${this.name}_bucket`;
    for (const c of this.cells.values()) {
      let acc = 0;
      this.buckets.forEach((le, i) => {
        acc += c.counts[i]!;
        values.push({ labels: { le, ...c.labels }, value: acc, metricName: bucket });
      });
      values.push({ labels: { le: '+Inf', ...c.labels }, value: c.count, metricName: bucket });
      values.push({ labels: { ...c.labels }, value: c.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...c.labels }, value: c.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.cells = new Map();
  }
}
