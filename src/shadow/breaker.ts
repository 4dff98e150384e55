/**
 * A circuit breaker per shadow target: after `threshold` failed copies in a row, copies to that
 * target are skipped for `coolDownMs`; then one copy is let through, and a success closes the
 * breaker again. A target that is down then costs the primary path nothing, instead of one
 * failed connection per sampled request.
 */
export class ShadowBreaker {
  private failures = 0;
  private openUntil = 0;
  private probing = false;

  constructor(
    private readonly threshold = 5,
    private readonly coolDownMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a copy may go out now. */
  allow(): boolean {
    if (this.failures < this.threshold) return true;
    if (this.now() < this.openUntil || this.probing) return false;
    this.probing = true; // half-open: one copy tests the target
    return true;
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
  }

  failure(): void {
    this.failures++;
    this.probing = false;
    if (this.failures >= this.threshold) this.openUntil = this.now() + this.coolDownMs;
  }

  get open(): boolean {
    return this.failures >= this.threshold;
  }
}
