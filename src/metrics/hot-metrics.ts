/**
 * Counters and histograms for the per-request hot path. prom-client hashes a label object on
 * every update (and allocates doing it); in a CPU profile of the gateway under load its updates
 * cost about as much as the rest of the request lifecycle. These keep one cell per combination
 * of label values, found through one Map per label, and implement prom-client's metric interface
 * (`get()`, `reset()`) so that the registry, /metrics and the cluster aggregator read them like
 * any other metric. Label values must be bounded, as everywhere in the catalogue.
 */
import type { Aggregator, Registry } from 'prom-client';

interface Value {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/**
 * Cells by label values, one Map level per label. A lookup hashes the label strings, and V8 keeps
 * a string's hash in the string: route and backend names come from the rule set and the config,
 * the same string objects every time. Joining them into one key instead built a new string per
 * update, hashed afresh (issue 14).
 */
abstract class HotMetric<L extends string, C extends { labels: Record<string, string> }> {
  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum';
  private root = new Map<string, unknown>();
  /** Every cell, in the order of their first update (the order /metrics lists them in). */
  protected cells: C[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
  ) {}

  protected abstract newCell(labels: Record<string, string>): C;

  /** The cell of these label values (in `labelNames` order), created on first use. */
  protected cellOf(values: readonly string[]): C {
    const last = this.labelNames.length - 1;
    let level = this.root;
    for (let i = 0; i < last; i++) {
      const v = values[i] ?? '';
      let next = level.get(v) as Map<string, unknown> | undefined;
      if (next === undefined) level.set(v, (next = new Map()));
      level = next;
    }
    const k = values[last] ?? '';
    let cell = level.get(k) as C | undefined;
    if (cell === undefined) {
      cell = this.newCell(this.labelsOf(values));
      level.set(k, cell);
      this.cells.push(cell);
    }
    return cell;
  }

  private labelsOf(values: readonly string[]): Record<string, string> {
    const labels: Record<string, string> = {};
    this.labelNames.forEach((n, i) => {
      labels[n] = values[i] ?? '';
    });
    return labels;
  }

  abstract get(): Promise<{ name: string; help: string; type: string; values: Value[]; aggregator: string }>;

  reset(): void {
    this.root = new Map();
    this.cells = [];
  }

  /** Registers with a prom-client registry, which reads it through get(). */
  register(registry: Registry): this {
    registry.registerMetric(this as never);
    return this;
  }
}

export class HotCounter<L extends string> extends HotMetric<L, { labels: Record<string, string>; value: number }> {
  readonly type = 'counter';

  protected newCell(labels: Record<string, string>) {
    return { labels, value: 0 };
  }

  /** Label values in `labelNames` order. */
  inc(...values: string[]): void {
    this.cellOf(values).value++;
  }

  async get() {
    const values = this.cells.map((c) => ({ labels: { ...c.labels }, value: c.value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

interface HistogramCell {
  labels: Record<string, string>;
  counts: Float64Array;
  sum: number;
  count: number;
}

export class HotHistogram<L extends string> extends HotMetric<L, HistogramCell> {
  readonly type = 'histogram';

  constructor(
    name: string,
    help: string,
    labelNames: readonly L[],
    readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames);
  }

  protected newCell(labels: Record<string, string>): HistogramCell {
    return { labels, counts: new Float64Array(this.buckets.length), sum: 0, count: 0 };
  }

  /** The observed value first, then label values in `labelNames` order. */
  observe(value: number, ...values: string[]): void {
    const cell = this.cellOf(values);
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
    for (const c of this.cells) {
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
}

/**
 * A gauge without labels that the request path moves up and down (requests in flight, bytes held
 * for shadowing): prom-client's Gauge validates and hashes an empty label set on every update.
 */
export class HotGauge {
  readonly type = 'gauge';
  readonly labelNames: readonly string[] = [];
  private value = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    /** How `--workers N` merges the workers' values (catalogue.ts). */
    readonly aggregator: Aggregator,
  ) {}

  inc(): void {
    this.value++;
  }

  dec(): void {
    this.value--;
  }

  set(value: number): void {
    this.value = value;
  }

  async get() {
    return { name: this.name, help: this.help, type: this.type, values: [{ labels: {}, value: this.value }], aggregator: this.aggregator };
  }

  reset(): void {
    this.value = 0;
  }

  /** Registers with a prom-client registry, which reads it through get(). */
  register(registry: Registry): this {
    registry.registerMetric(this as never);
    return this;
  }
}
