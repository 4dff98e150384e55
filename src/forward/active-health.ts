/**
 * The state of one host under active health checks, as a pure state machine: thresholds of
 * consecutive results move it between healthy and unhealthy. A host starts unknown, counted as
 * healthy so that a start does not refuse traffic, and its first result decides at once (Envoy
 * likewise needs a single passing check at startup); after that `unhealthyThreshold` failures in
 * a row take it out and `healthyThreshold` passes in a row bring it back (the same run of passes
 * ends an outlier ejection, host-set.ts).
 */
export type HealthState = 'unknown' | 'healthy' | 'unhealthy';

export class ActiveHealth {
  private current: HealthState = 'unknown';
  private passes = 0;
  private failures = 0;

  constructor(
    private readonly healthyThreshold: number,
    private readonly unhealthyThreshold: number,
  ) {}

  get state(): HealthState {
    return this.current;
  }

  /** Whether the host may get traffic as far as active checks go. */
  get healthy(): boolean {
    return this.current !== 'unhealthy';
  }

  /**
   * Passed `healthyThreshold` checks in a row since the last failure or `restartPasses()`: enough
   * to end an outlier ejection of a host that active checks never took out.
   */
  get proven(): boolean {
    return this.current !== 'unhealthy' && this.passes >= this.healthyThreshold;
  }

  /** Requests failed on the host (it was ejected): it has to pass `healthyThreshold` checks again. */
  restartPasses(): void {
    this.passes = 0;
  }

  /** Records one check; returns the new state when it changed. */
  record(passed: boolean): 'healthy' | 'unhealthy' | undefined {
    if (passed) {
      this.failures = 0;
      this.passes++;
      if (this.current === 'unknown' || (this.current === 'unhealthy' && this.passes >= this.healthyThreshold)) return this.become('healthy');
    } else {
      this.passes = 0;
      this.failures++;
      if (this.current === 'unknown' || (this.current === 'healthy' && this.failures >= this.unhealthyThreshold)) return this.become('unhealthy');
    }
    return undefined;
  }

  private become(state: 'healthy' | 'unhealthy'): 'healthy' | 'unhealthy' | undefined {
    const changed = this.healthy !== (state === 'healthy');
    this.current = state;
    return changed ? state : undefined;
  }
}
