/**
 * The differential fuzz run: the generator's stream sent to the legacy layer and to the pipeline
 * service, each in front of its own recording origin, one request at a time (both sides at once),
 * every pair of observations compared, and every difference either explained by a classifier of a
 * documented difference (known-differences.ts) or reported as undocumented.
 *
 * Requests go one at a time so that rate-limit buckets that a burst shares see the same order on
 * both sides; the origins' records are complete when an answer arrives (an origin records a request
 * before it answers it).
 */
import { compareObservations, type FieldDiff, type Observation, show } from './compare.js';
import { exchange } from './exchange.js';
import { type FuzzRequest, type FuzzUnit, generate } from './generate.js';
import { type Classifier, classify } from './known-differences.js';
import { startRecordingOrigin } from './recording-origin.js';

export interface Implementation {
  port: number;
  stop(): Promise<void>;
}

export type StartImplementation = (origin: { host: string; port: number }) => Promise<Implementation>;

export interface ParityOptions {
  seed: number;
  count: number;
  /** Requests to send instead of the generator's stream (regression cases). */
  units?: readonly FuzzUnit[];
  legacy: StartImplementation;
  pipeline: StartImplementation;
  /** Cap on one exchange, for a side that hangs (reported as a difference), in ms. */
  capMs?: number;
  /** Called for each request whose observations differ, as the run goes. */
  onFinding?: (f: Finding) => void;
  /** Stops the run after the request in flight (the report covers what was sent). */
  signal?: AbortSignal;
  /** Called for every request with both observations. */
  onExchange?: (request: FuzzRequest, legacy: Observation, pipeline: Observation) => void;
}

export interface Finding {
  request: FuzzRequest;
  diffs: FieldDiff[];
  /** The documented difference that explains every field; undefined: undocumented. */
  explainedBy: Classifier | undefined;
  legacy: Observation;
  pipeline: Observation;
}

export interface ParityReport {
  seed: number;
  sent: number;
  agreed: number;
  findings: Finding[];
  /** Requests that reached the origin on both sides (a run that forwards nothing proves little). */
  forwardedByBoth: number;
  seconds: number;
}

export async function runParity(o: ParityOptions): Promise<ParityReport> {
  const started = performance.now();
  const origins = { legacy: await startRecordingOrigin(), pipeline: await startRecordingOrigin() };
  const sides: Partial<Record<'legacy' | 'pipeline', Implementation>> = {};
  try {
    sides.legacy = await o.legacy({ host: '127.0.0.1', port: origins.legacy.port });
    sides.pipeline = await o.pipeline({ host: '127.0.0.1', port: origins.pipeline.port });
    const report: ParityReport = { seed: o.seed, sent: 0, agreed: 0, findings: [], forwardedByBoth: 0, seconds: 0 };
    for (const unit of o.units ?? generate(o.seed, o.count)) {
      if (o.signal?.aborted) break;
      for (const request of unit.requests) {
        const capMs = o.capMs ?? 5000;
        const before = { legacy: origins.legacy.anonymous(), pipeline: origins.pipeline.anonymous() };
        const [la, pa] = await Promise.all([
          exchange(sides.legacy.port, request.raw, request.method, capMs),
          exchange(sides.pipeline.port, request.raw, request.method, capMs),
        ]);
        const legacy: Observation = { answer: la, received: origins.legacy.received(request.id), anonymous: origins.legacy.anonymous() - before.legacy };
        const pipeline: Observation = {
          answer: pa,
          received: origins.pipeline.received(request.id),
          anonymous: origins.pipeline.anonymous() - before.pipeline,
        };
        report.sent++;
        o.onExchange?.(request, legacy, pipeline);
        if (legacy.received.length && pipeline.received.length) report.forwardedByBoth++;
        const diffs = compareObservations(legacy, pipeline);
        if (diffs.length === 0) {
          report.agreed++;
          continue;
        }
        const finding: Finding = { request, diffs, explainedBy: classify(request, legacy, pipeline, diffs), legacy, pipeline };
        report.findings.push(finding);
        o.onFinding?.(finding);
      }
    }
    report.seconds = (performance.now() - started) / 1000;
    return report;
  } finally {
    await Promise.all([sides.legacy?.stop(), sides.pipeline?.stop()]);
    await Promise.all([origins.legacy.close(), origins.pipeline.close()]);
  }
}

/** The findings no documented difference explains. */
export function undocumented(r: ParityReport): Finding[] {
  return r.findings.filter((f) => !f.explainedBy);
}

/** A finding in a few lines: the request (escaped, cut), its classification, each field. */
export function formatFinding(f: Finding): string {
  const tag = f.explainedBy ? `documented: ${f.explainedBy.name}` : 'UNDOCUMENTED';
  const lines = [
    `#${f.request.n} ${f.request.id} [${f.request.family}] ${f.request.note} — ${tag}`,
    `  request ${show(f.request.raw.toString('latin1'), 300)}`,
    `  answers: legacy ${f.legacy.answer.status} (${f.legacy.answer.end}, origin got ${f.legacy.received.length}) | pipeline ${f.pipeline.answer.status} (${f.pipeline.answer.end}, origin got ${f.pipeline.received.length})`,
  ];
  for (const d of f.diffs) lines.push(`  ${d.field}: legacy ${d.legacy} | pipeline ${d.pipeline}`);
  return lines.join('\n');
}

/** Counts per classification, and the totals. */
export function formatSummary(r: ParityReport): string {
  const counts = new Map<string, number>();
  for (const f of r.findings) {
    const key = f.explainedBy ? `documented: ${f.explainedBy.name}` : 'UNDOCUMENTED';
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const lines = [
    `seed ${r.seed}: ${r.sent} requests in ${r.seconds.toFixed(1)} s, ${r.agreed} identical, ${r.findings.length} different (${undocumented(r).length} undocumented); ${r.forwardedByBoth} reached both origins`,
  ];
  for (const [k, n] of [...counts].sort((a, b) => b[1] - a[1])) lines.push(`  ${String(n).padStart(6)}  ${k}`);
  return lines.join('\n');
}
