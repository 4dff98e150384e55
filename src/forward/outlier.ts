/**
 * Passive outlier ejection for the hosts of one backend, as a pure state machine (time is given,
 * never read): `consecutiveFailures` failed requests in a row eject a host for `ejectionTimeMs`,
 * unless that would eject more than `maxEjectedPercent` of the hosts (at least one host may
 * always be ejected, as in Envoy, so a backend of one host can be seen as down). A success resets
 * a host's run of failures. The caller ends an ejection when its time is up (`expire`) or when an
 * active health check brought the host back (`uneject`).
 */
import type { OutlierConfig } from '../config/backend-config.js';

export class OutlierDetector {
  private readonly failures: number[];
  /** Time at which each host's ejection ends; 0 = not ejected. */
  private readonly until: number[];
  private ejectedCount = 0;
  readonly maxEjected: number;

  constructor(
    private readonly policy: OutlierConfig,
    hosts: number,
  ) {
    this.failures = new Array<number>(hosts).fill(0);
    this.until = new Array<number>(hosts).fill(0);
    this.maxEjected = policy.maxEjectedPercent > 0 ? Math.max(1, Math.floor((hosts * policy.maxEjectedPercent) / 100)) : 0;
  }

  ejected(host: number): boolean {
    return this.until[host]! > 0;
  }

  /** When the host's ejection ends (0 when it is not ejected). */
  ejectedUntil(host: number): number {
    return this.until[host]!;
  }

  get ejectedHosts(): number {
    return this.ejectedCount;
  }

  success(host: number): void {
    this.failures[host] = 0;
  }

  /** Records a failed request; true when it ejected the host. */
  failure(host: number, now: number): boolean {
    // Requests still in flight when the host was ejected fail too: they do not extend it.
    if (this.ejected(host)) return false;
    const n = ++this.failures[host]!;
    if (n < this.policy.consecutiveFailures || this.ejectedCount >= this.maxEjected) return false;
    this.until[host] = now + this.policy.ejectionTimeMs;
    this.failures[host] = 0;
    this.ejectedCount++;
    return true;
  }

  /** Ends the host's ejection if its time is up; true when it did. */
  expire(host: number, now: number): boolean {
    const t = this.until[host]!;
    return t > 0 && now >= t ? this.uneject(host) : false;
  }

  /** Ends the host's ejection now; true when it was ejected. */
  uneject(host: number): boolean {
    if (!this.ejected(host)) return false;
    this.until[host] = 0;
    this.failures[host] = 0;
    this.ejectedCount--;
    return true;
  }
}
