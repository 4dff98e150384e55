/**
 * The hosts of one HTTP backend: a connection pool per host (upstream-client.ts), which host an attempt goes to
 * (balancer.ts), and whether each host may get traffic: active health checks (active-health.ts,
 * run by health-checker.ts) and passive outlier ejection (outlier.ts). The decisions are those
 * pure pieces; this file holds their timers, metrics and logs. A backend with no available host
 * is "down" (`up` false): a route with a fallback then sends its requests there directly.
 */
import type { BackendConfig } from '../config/backend-config.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/catalogue.js';
import { ActiveHealth, type HealthState } from './active-health.js';
import { type HostView, pickLeastRequest, pickRoundRobin } from './balancer.js';
import { HealthChecker } from './health-checker.js';
import { OutlierDetector } from './outlier.js';
import { UpstreamClient } from './upstream-client.js';

export type BackendState = 'up' | 'degraded' | 'down';

export interface HostStatus {
  /** The host as configured (its origin). */
  host: string;
  /** Gets traffic: healthy and not ejected. */
  available: boolean;
  /** Active checks: unknown before the first one, "unchecked" without health checks. */
  health: HealthState | 'unchecked';
  /** ISO time at which an outlier ejection ends. */
  ejected_until?: string;
}

export interface HostSetDeps {
  metrics?: Metrics;
  logger?: Logger;
  random?: () => number;
  now?: () => number;
}

export class UpstreamHost implements HostView {
  available = true;
  active = 0;
  /** The metric label and log field: the origin as configured. */
  readonly label: string;

  constructor(
    readonly url: URL,
    readonly client: UpstreamClient,
    readonly health: ActiveHealth | undefined,
  ) {
    this.label = url.origin;
  }

  /** Requests waiting for a connection to this host. */
  queued(): number {
    return this.client.queued();
  }
}

export class HostSet {
  readonly hosts: readonly UpstreamHost[];
  private cursor = 0;
  private availableCount: number;
  private readonly outlier: OutlierDetector | undefined;
  private readonly checker: HealthChecker | undefined;
  private readonly ejectionTimers: (NodeJS.Timeout | undefined)[];
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(
    private readonly config: BackendConfig,
    private readonly deps: HostSetDeps = {},
  ) {
    this.random = deps.random ?? Math.random;
    this.now = deps.now ?? Date.now;
    const h = config.health;
    this.hosts = config.urls.map(
      (url) =>
        new UpstreamHost(
          url,
          new UpstreamClient(url, {
            client: config.client,
            connections: config.connections,
            connectTimeoutMs: config.connectTimeoutMs,
            responseTimeoutMs: config.responseTimeoutMs,
          }),
          h && new ActiveHealth(h.healthyThreshold, h.unhealthyThreshold),
        ),
    );
    this.availableCount = this.hosts.length;
    this.ejectionTimers = this.hosts.map(() => undefined);
    this.outlier = config.outlier && new OutlierDetector(config.outlier, this.hosts.length);
    for (const host of this.hosts) deps.metrics?.hostHealthy.set({ backend: config.name, host: host.label }, 1);
    // From 0, so that increase() sees the first ejection (as switchyard_rules_reloads_total).
    if (this.outlier) deps.metrics?.outlierEjections.inc({ backend: config.name }, 0);
    if (h) {
      this.checker = new HealthChecker(config.urls, h, (i, passed, detail) => this.checked(i, passed, detail));
      this.checker.start();
    }
  }

  /** At least one host may get traffic. */
  get up(): boolean {
    return this.availableCount > 0;
  }

  get state(): BackendState {
    return this.availableCount === this.hosts.length ? 'up' : this.availableCount > 0 ? 'degraded' : 'down';
  }

  /**
   * The host for the next attempt, never one in `skip` (a bit per host index); when no host is
   * available, any host (panic routing: health can be wrong, and refusing helps nobody). -1 when
   * every host was skipped.
   */
  pick(skip = 0): number {
    const i = this.pickAmong(skip, false);
    return i >= 0 ? i : this.pickAmong(skip, true);
  }

  private pickAmong(skip: number, panic: boolean): number {
    if (this.hosts.length === 1) return skip & 1 ? -1 : 0;
    if (this.config.balance === 'least_request') return pickLeastRequest(this.hosts, this.random, skip, panic);
    const i = pickRoundRobin(this.hosts, this.cursor, skip, panic);
    if (i >= 0) this.cursor = (i + 1) % this.hosts.length;
    return i;
  }

  /** The outcome of an attempt on host `i`, as soon as it is known (response head or error). */
  result(i: number, ok: boolean): void {
    const o = this.outlier;
    if (!o) return;
    if (ok) return o.success(i);
    if (!o.failure(i, this.now())) return;
    const host = this.hosts[i]!;
    this.deps.metrics?.outlierEjections.inc({ backend: this.config.name });
    this.deps.logger?.warn(
      { backend: this.config.name, host: host.label, ejection_ms: this.config.outlier!.ejectionTimeMs },
      'host ejected after consecutive failures',
    );
    clearTimeout(this.ejectionTimers[i]);
    const timer = setTimeout(() => {
      this.ejectionTimers[i] = undefined;
      if (o.uneject(i)) this.refresh(i, 'ejection time over');
    }, this.config.outlier!.ejectionTimeMs);
    timer.unref();
    this.ejectionTimers[i] = timer;
    host.health?.restartPasses();
    this.refresh(i, 'ejected');
  }

  private checked(i: number, passed: boolean, detail: string): void {
    const health = this.hosts[i]!.health!;
    const change = health.record(passed);
    // Passing checks also end an ejection, as Envoy's successful_active_health_check_uneject_host
    // (the check is the fresher evidence): those that bring an unhealthy host back, and
    // healthy_threshold in a row since the ejection of a host that active checks never took out
    // (requests can fail, and eject it, within fewer than unhealthy_threshold checks).
    const unejected = passed && (change === 'healthy' || health.proven) && this.outlier?.uneject(i) === true;
    if (unejected) clearTimeout(this.ejectionTimers[i]);
    if (change || unejected) this.refresh(i, `health check: ${detail}`);
  }

  /** Recomputes whether host `i` gets traffic; on a change, the gauge and a log line. */
  private refresh(i: number, why: string): void {
    const host = this.hosts[i]!;
    const available = (host.health?.healthy ?? true) && !this.outlier?.ejected(i);
    if (available === host.available) return;
    host.available = available;
    this.availableCount += available ? 1 : -1;
    this.deps.metrics?.hostHealthy.set({ backend: this.config.name, host: host.label }, available ? 1 : 0);
    const fields = { backend: this.config.name, host: host.label, reason: why, backend_state: this.state };
    if (available) this.deps.logger?.info(fields, 'host available');
    else this.deps.logger?.warn(fields, 'host unavailable');
  }

  status(): HostStatus[] {
    return this.hosts.map((h, i) => {
      const until = this.outlier?.ejectedUntil(i) ?? 0;
      return {
        host: h.label,
        available: h.available,
        health: h.health?.state ?? 'unchecked',
        ...(until ? { ejected_until: new Date(until).toISOString() } : {}),
      };
    });
  }

  async close(): Promise<void> {
    for (const t of this.ejectionTimers) clearTimeout(t);
    await this.checker?.close();
    await Promise.allSettled(this.hosts.map((h) => h.client.close()));
  }

  async destroy(): Promise<void> {
    for (const t of this.ejectionTimers) clearTimeout(t);
    await this.checker?.close();
    await Promise.allSettled(this.hosts.map((h) => h.client.destroy()));
  }
}
