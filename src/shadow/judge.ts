/**
 * The copy's log step: the end of a shadow copy's exchange, whether it was sent, skipped or
 * dropped. It compares the two answers off the request path, and is the one place that writes
 * the copy's metrics (switchyard_shadow_*), the diff report and the stored mismatch samples.
 */
import { type CapturedResponse, type Comparison, type FieldDiff, generalizeField, withNoise } from '../diff/compare.js';
import { parseJsonExact, toPlainJson } from '../diff/exact-json.js';
import { ERRORS } from '../errors.js';
import type { Metrics } from '../metrics/catalogue.js';
import type { ShadowPolicy } from '../rules/shadow-policy.js';
import type { ComparePool } from './compare-pool.js';
import type { NoiseLearner } from './noise.js';
import { hideRedacted, type Redaction, redactHeaders, redactJson, redactQuery } from './redact.js';
import type { DiffReport, Outcome } from './report.js';
import type { SampleSink } from './sample-sink.js';
import { isTimeout } from './shadow-client.js';
import type { ShadowTargets } from './shadow-targets.js';

/** At most this many distinct `field` label values per route; the rest count as "other". */
const MAX_FIELD_LABELS = 20;
/** Body text kept in a stored sample. */
const SAMPLE_BODY_BYTES = 8 * 1024;

/** The request a copy was made of, as the samples and the report show it. */
export interface CopiedRequest {
  route: string;
  /** The backend that served the primary. */
  served: string;
  target: string;
  requestId: string;
  /** The W3C trace id both calls carry, to find both answers in a tracing system. */
  traceId: string;
  method: string;
  path: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Response times (ms) of the two answers: the primary from the start of the request, the copy from its send. */
export interface CopyTiming {
  primaryMs?: number;
  copyMs?: number;
}

/** Where finished comparisons go besides this process's report: the fleet's rollout evidence. */
export interface ComparisonSink {
  comparison(route: string, result: Outcome, target?: string): void;
}

export class ShadowJudge {
  private readonly fieldLabels = new Map<string, Set<string>>();

  constructor(
    private readonly metrics: Metrics,
    private readonly report: DiffReport,
    private readonly noise: NoiseLearner,
    private readonly sink: SampleSink,
    private readonly targets: ShadowTargets,
    private readonly compares: ComparePool,
    /** Headers and query parameters whose values samples and the report never show. */
    private readonly redaction: Redaction,
    /** Read on every comparison: the gateway sets it once its Redis is known. */
    private readonly evidence: { evidence?: ComparisonSink } = {},
  ) {}

  /** The shadow step decided not to send a copy (same backend, method, body, target down). */
  skipped(route: string, target: string, reason: string): void {
    this.metrics.shadowRequests.inc(route, target, 'skipped');
    this.finish(route, 'skipped', reason);
  }

  /**
   * A comparison that ended without comparing (skipped, dropped) or with a verdict; `target` names
   * who failed. The one place that counts skip reasons and feeds the rollout evidence.
   */
  finish(route: string, outcome: Outcome, reason?: string, target?: string): void {
    this.metrics.shadowComparisons.inc(route, outcome);
    if (outcome === 'skipped') this.metrics.shadowSkipped.inc({ route, reason: reason ?? 'other' });
    this.report.record(route, outcome, reason);
    this.evidence.evidence?.comparison(route, outcome, target);
  }

  /** The limiter had no room for the copy. */
  dropped(route: string, target: string): void {
    this.metrics.shadowRequests.inc(route, target, 'dropped');
    this.report.dropped(route);
  }

  /** A copy leaves; it is in flight until `settle`. */
  sent(): void {
    this.metrics.shadowInFlight.inc();
  }

  /**
   * Both answers are in (or failed): the end of the copy's exchange. `missing` is why the copy
   * could not be compared before it was judged (no whole body, global buffer full). Resolves once
   * judged (the comparison may run in a worker thread).
   */
  async settle(
    r: CopiedRequest,
    policy: ShadowPolicy,
    primary: CapturedResponse | Error,
    copy: CapturedResponse | Error,
    second?: CapturedResponse | Error,
    missing?: string,
    timing: CopyTiming = {},
  ): Promise<void> {
    this.metrics.shadowInFlight.dec();
    if (missing) this.finish(r.route, 'skipped', missing);
    else if (copy instanceof Error && (copy as { code?: string }).code === ERRORS.SHADOW_NO_BODY.code) this.finish(r.route, 'skipped', 'body_too_large');
    else await this.judge(r, policy, primary, copy, second, timing);
  }

  private async judge(
    r: CopiedRequest,
    policy: ShadowPolicy,
    primary: CapturedResponse | Error,
    copy: CapturedResponse | Error,
    second?: CapturedResponse | Error,
    timing: CopyTiming = {},
  ): Promise<void> {
    const { route, served, target } = r;
    if (!(primary instanceof Error) && timing.primaryMs !== undefined) this.report.latency(route, served, timing.primaryMs);
    if (!(copy instanceof Error) && timing.copyMs !== undefined) this.report.latency(route, target, timing.copyMs);
    if (copy instanceof Error) this.targets.breaker(target).failure();
    else this.targets.breaker(target).success();
    if (primary instanceof Error) return this.finish(route, 'skipped', 'primary_error');
    if (copy instanceof Error) {
      this.metrics.shadowRequests.inc(route, target, isTimeout(copy) ? 'timeout' : 'error');
      return this.finish(route, isTimeout(copy) ? 'shadow_timeout' : 'shadow_error', undefined, target);
    }
    this.metrics.shadowRequests.inc(route, target, 'sent');
    // Off the event loop when the bodies are large (compare-pool.ts); noise applied here.
    const pair = await this.compares.compare(primary, copy, policy.compare, second instanceof Error ? undefined : second);
    this.metrics.shadowCompareDuration.observe(pair.seconds, pair.where);
    // Noise first, so that this very comparison already benefits from what it taught.
    if (pair.second?.diffs.length) this.noise.learn(route, pair.second.diffs);
    const c: Comparison = withNoise(pair.copy, (f) => this.noise.isNoise(route, f));
    this.finish(route, c.result, c.reason);
    if (c.result !== 'mismatch') return;
    for (const d of c.diffs) this.metrics.shadowDiffFields.inc({ route, field: this.fieldLabel(route, generalizeField(d.field)) });
    const redaction = this.redaction;
    const hide = (d: FieldDiff): FieldDiff => hideRedacted(d, policy.redactJson, redaction);
    this.report.fields(route, r.requestId, c.diffs, (d) => {
      const h = hide(d);
      const values: Record<string, unknown> = {};
      if (h.a !== undefined) values[served] = h.a;
      if (h.b !== undefined) values[target] = h.b;
      return { request_id: r.requestId, method: r.method, path: r.path, values, backends: [served, target] };
    });
    this.sink.write({
      time: new Date().toISOString(),
      route,
      request_id: r.requestId,
      trace_id: r.traceId,
      method: r.method,
      path: r.path,
      query: redactQuery(r.query, redaction),
      request_headers: redactHeaders(r.headers, redaction),
      served,
      target,
      diffs: c.diffs.map(hide),
      noise: c.noise.map((d) => d.field),
      [served]: { status: primary.status, headers: redactHeaders(primary.headers, redaction), body: sampleBody(primary, policy) },
      [target]: { status: copy.status, headers: redactHeaders(copy.headers, redaction), body: sampleBody(copy, policy) },
    });
  }

  private fieldLabel(route: string, field: string): string {
    let set = this.fieldLabels.get(route);
    if (!set) this.fieldLabels.set(route, (set = new Set()));
    if (set.has(field)) return field;
    if (set.size < MAX_FIELD_LABELS) {
      set.add(field);
      return field;
    }
    return 'other';
  }
}

function sampleBody(r: CapturedResponse, policy: ShadowPolicy): unknown {
  const text = r.body.subarray(0, SAMPLE_BODY_BYTES).toString('utf8');
  try {
    // Exact, as in the comparison: a sample must not show two different IDs as one number.
    return redactJson(toPlainJson(parseJsonExact(r.body.toString('utf8'))), policy.redactJson);
  } catch {
    return r.body.length > SAMPLE_BODY_BYTES ? text + '…' : text;
  }
}
