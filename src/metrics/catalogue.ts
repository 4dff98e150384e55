/**
 * Every metric switchyard exports, declared in this one file: name, help, labels, buckets, and
 * how `--workers N` merges the workers' values (`aggregator`: counters and histograms add up;
 * a gauge says what it means: a sum, the minimum, or the first worker's value where every worker
 * holds the same one). docs/metrics.md lists the same set and test/unit/catalogues.test.ts fails
 * when the two disagree. Labels are bounded: route names, backend names, hosts as configured and
 * outcome words, never paths or ids.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { takeEventLoopDelay } from './event-loop-delay.js';
import { HotCounter, HotGauge, HotHistogram } from './hot-metrics.js';

/** Latency bucket bounds (seconds) shared by the request histograms and the rollout evidence. */
export const LATENCY_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Comparison time bucket bounds (seconds): 5 ms is what a comparison on the event loop must stay under (issue 14). */
const COMPARE_BUCKETS: readonly number[] = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export function createMetrics(options: { processMetrics?: boolean } = {}) {
  const registry = new Registry();
  const registers = [registry];
  const metrics = {
    registry,

    // Gateway: requests, written only by the log step (gateway/log-step.ts). Updated on every
    // request, hence hot-path implementations (hot-metrics.ts).
    requests: new HotCounter(
      'switchyard_requests_total',
      'Requests answered by the gateway (WebSocket upgrades and parser-refused requests included), by route, serving backend and status code.',
      ['route', 'backend', 'code'] as const,
    ).register(registry),
    requestDuration: new HotHistogram(
      'switchyard_request_duration_seconds',
      'Time from receiving a request to the end of its response, by route and serving backend.',
      ['route', 'backend'] as const,
      LATENCY_BUCKETS,
    ).register(registry),
    inFlight: new HotGauge(
      'switchyard_requests_in_flight',
      'Requests received whose response has not finished yet (open WebSocket tunnels not included).',
      'sum',
    ).register(registry),
    upstreamErrors: new Counter({
      name: 'switchyard_upstream_errors_total',
      help: 'Failed requests to a backend, by backend and reason (refused, reset, connect_timeout, response_timeout, bad_response, busy, error).',
      labelNames: ['backend', 'reason'] as const,
      registers,
    }),
    clientErrors: new Counter({
      name: 'switchyard_client_errors_total',
      help: 'Requests refused or cut short on the client side, by reason (bad_request, uri_too_long, headers_too_large, timeout, client_aborted).',
      labelNames: ['reason'] as const,
      registers,
    }),
    placements: new HotCounter(
      'switchyard_route_placements_total',
      'Routing decisions by route, backend and placement (fixed, sticky, random, override); random counts split requests without a sticky key value.',
      ['route', 'backend', 'placement'] as const,
    ).register(registry),
    overrideRejected: new Counter({
      name: 'switchyard_override_rejected_total',
      help: 'Requests carrying x-switchyard-force that were not honoured (missing or wrong token, unknown backend).',
      registers,
    }),

    // Rules.
    rulesVersion: new Gauge({
      name: 'switchyard_rules_version',
      help: 'Version of the active rule set (0 when loaded from a file).',
      // Workers converge on the same version; while one lags, the fleet is at the lowest.
      aggregator: 'min',
      registers,
    }),
    rulesReloads: new Counter({
      name: 'switchyard_rules_reloads_total',
      help: 'Attempts to load a new rule set, by result (applied, invalid, error).',
      labelNames: ['result'] as const,
      registers,
    }),
    rulesSource: new Gauge({
      name: 'switchyard_rules_source',
      help: 'Where the active rule set came from: 1 for the active source (redis, snapshot, file), 0 for the others.',
      labelNames: ['source'] as const,
      aggregator: 'first',
      registers,
    }),
    routeWeight: new Gauge({
      name: 'switchyard_route_weight',
      help: 'Configured split of a route, in percent per backend.',
      labelNames: ['route', 'backend'] as const,
      aggregator: 'first',
      registers,
    }),
    redisUp: new Gauge({
      name: 'switchyard_rules_redis_connected',
      help: '1 while the connection to the rules Redis is up, 0 otherwise.',
      // 0 as soon as one worker lost it: that worker no longer follows the rules store.
      aggregator: 'min',
      registers,
    }),

    // Backends: hosts, health, retries, fallbacks (docs/resilience.md).
    hostHealthy: new Gauge({
      name: 'switchyard_backend_host_healthy',
      help: '1 while a host of a backend gets traffic (healthy and not ejected), 0 otherwise; host as configured.',
      labelNames: ['backend', 'host'] as const,
      // Each worker checks on its own: a host any worker took out shows 0.
      aggregator: 'min',
      registers,
    }),
    outlierEjections: new Counter({
      name: 'switchyard_outlier_ejections_total',
      help: 'Hosts ejected by passive outlier detection (consecutive failures), by backend.',
      labelNames: ['backend'] as const,
      registers,
    }),
    upstreamRetries: new Counter({
      name: 'switchyard_upstream_retries_total',
      help: 'Requests sent again to another host of the same backend, by backend and the reason of the failed attempt (refused, connect_timeout, reset).',
      labelNames: ['backend', 'reason'] as const,
      registers,
    }),
    fallbacks: new Counter({
      name: 'switchyard_fallbacks_total',
      help: 'Requests a route sent to its fallback backend, by route, the failed backend, the fallback and the reason (refused, reset, timeout, 5xx, or down when sent there directly).',
      labelNames: ['route', 'from', 'to', 'reason'] as const,
      registers,
    }),
    fallbacksSkipped: new Counter({
      name: 'switchyard_fallbacks_skipped_total',
      help: "Failures that a route's fallback would have taken but did not, by route and why (budget, method, body); the client got the original answer.",
      labelNames: ['route', 'reason'] as const,
      registers,
    }),

    // Rollouts (docs/rollouts.md).
    rolloutStepPercent: new Gauge({
      name: 'switchyard_rollout_step_percent',
      // Every worker of a gateway exports the same fleet-wide value: /metrics of the primary keeps one.
      aggregator: 'max',
      help: 'Share of the rollout backend (`to`) in percent, as the rollout state expects it, by route.',
      labelNames: ['route'] as const,
      registers,
    }),
    rolloutState: new Gauge({
      name: 'switchyard_rollout_state',
      // Every worker of a gateway exports the same fleet-wide value: /metrics of the primary keeps one.
      aggregator: 'max',
      help: '1 for the current state of a rollout (progressing, holding, paused, complete, rolled_back, aborted), 0 for the others.',
      labelNames: ['route', 'state'] as const,
      registers,
    }),
    rolloutTransitions: new Counter({
      name: 'switchyard_rollout_transitions_total',
      help: 'Rollout transitions made by this process, by route and reason (start, promote, rollback, step_back, breach_hold, manual_change, pause, resume, manual_promote, abort).',
      labelNames: ['route', 'reason'] as const,
      registers,
    }),
    rolloutGateValue: new Gauge({
      name: 'switchyard_rollout_gate_value',
      // Every worker of a gateway exports the same fleet-wide value: /metrics of the primary keeps one.
      aggregator: 'max',
      help: 'Last value of a rollout gate on the leader, by route and gate (mismatch_rate: upper bound, error_rate: difference, as fractions; p99_ratio).',
      labelNames: ['route', 'gate'] as const,
      registers,
    }),
    rolloutLeader: new Gauge({
      name: 'switchyard_rollout_leader',
      help: '1 while this process holds the rollout controller lease.',
      registers,
    }),

    // Shadow traffic and comparison. Those written for every copy (100 % of a route's requests
    // when it shadows them all) are hot-path implementations (hot-metrics.ts).
    shadowRequests: new HotCounter(
      'switchyard_shadow_requests_total',
      'Shadow requests by route, target backend and outcome (sent, dropped, error, timeout, skipped).',
      ['route', 'target', 'outcome'] as const,
    ).register(registry),
    shadowComparisons: new HotCounter(
      'switchyard_shadow_comparisons_total',
      'Finished comparisons by route and result (match, mismatch, noise, shadow_error, shadow_timeout, skipped).',
      ['route', 'result'] as const,
    ).register(registry),
    shadowSkipped: new Counter({
      name: 'switchyard_shadow_skipped_total',
      help: 'Comparisons skipped, by route and reason (same_backend, method, body_too_large, target_down, buffer_full, incomplete, primary_error, undecodable_body).',
      labelNames: ['route', 'reason'] as const,
      registers,
    }),
    shadowBufferedBytes: new HotGauge(
      'switchyard_shadow_buffered_bytes',
      'Bytes held for shadowing (request bodies and captured responses), bounded by shadow.max_buffered_bytes.',
      'sum',
    ).register(registry),
    shadowDiffFields: new Counter({
      name: 'switchyard_shadow_diff_fields_total',
      help: 'Differing fields in mismatches, by route and field (status, header:NAME, a JSON Pointer, body); at most 20 fields per route, the rest as "other".',
      labelNames: ['route', 'field'] as const,
      registers,
    }),
    shadowSamplesDropped: new Counter({
      name: 'switchyard_shadow_samples_dropped_total',
      help: 'Mismatch samples that could not be stored, by reason (open_failed, write_failed: the JSONL file; xadd_failed: the Redis stream).',
      labelNames: ['reason'] as const,
      registers,
    }),
    // Written once per comparison, so on the hot-path implementation (hot-metrics.ts).
    shadowCompareDuration: new HotHistogram(
      'switchyard_shadow_compare_seconds',
      'Time to compare a copy with the primary (decompression, parse, diff), by where it ran: inline (on the event loop, which waits that long) or worker (a compare thread).',
      ['where'] as const,
      COMPARE_BUCKETS,
    ).register(registry),
    shadowInFlight: new HotGauge('switchyard_shadow_in_flight', 'Shadow requests in flight.', 'sum').register(registry),
    eventLoopDelay: new Gauge({
      name: 'switchyard_event_loop_delay_seconds',
      help: 'Event loop delay since the previous scrape (sampled every 2 ms), by stat: p99, max.',
      labelNames: ['stat'] as const,
      // With --workers, the worst worker's: a sum of delays means nothing.
      aggregator: 'max',
      registers,
      collect() {
        const d = takeEventLoopDelay();
        this.set({ stat: 'p99' }, d.p99);
        this.set({ stat: 'max' }, d.max);
      },
    }),

    // The new pipeline (switchyard pipeline, or in-process behind the gateway).
    // Updated once per request (and moduleDuration once per module handler): hot-path
    // implementations, as for the gateway's own; prom-client's label hashing was about a quarter
    // of the pipeline engine's own CPU in a profile of the after-cutover edge (issue 14).
    pipelineRequests: new HotCounter(
      'switchyard_pipeline_requests_total',
      'Requests answered by the pipeline, by the module that answered ("origin" when the origin did, "pipeline" when the pipeline itself did) and status code.',
      ['answered_by', 'code'] as const,
    ).register(registry),
    pipelineDuration: new Histogram({
      name: 'switchyard_pipeline_request_duration_seconds',
      help: 'Time from receiving a request to the end of the pipeline response.',
      buckets: [...LATENCY_BUCKETS],
      registers,
    }),
    moduleDuration: new HotHistogram(
      'switchyard_pipeline_module_duration_seconds',
      'Time spent in a module handler, by module and phase (only for modules whose filter matched).',
      ['module', 'phase'] as const,
      [0.000001, 0.000005, 0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01],
    ).register(registry),
    productsReloads: new Counter({
      name: 'switchyard_products_reloads_total',
      help: 'Reloads of the products file on SIGHUP, by result (applied, invalid, error); an unchanged file is not counted.',
      labelNames: ['result'] as const,
      registers,
    }),
    moduleErrors: new Counter({
      name: 'switchyard_pipeline_module_errors_total',
      help: 'Handler errors by module (thrown errors and writes outside the phase that allows them).',
      labelNames: ['module'] as const,
      registers,
    }),
  };
  // A counter series that appears already at 1 is invisible to rate() and increase(), so a single
  // failed rules load would never fire SwitchyardRulesReloadFailing (config/prometheus/alerts.yaml).
  for (const result of ['applied', 'invalid', 'error']) {
    metrics.rulesReloads.inc({ result }, 0);
    metrics.productsReloads.inc({ result }, 0);
  }
  for (const reason of ['open_failed', 'write_failed', 'xadd_failed']) metrics.shadowSamplesDropped.inc({ reason }, 0);
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
