/**
 * A retry budget over a sliding window, as Envoy's retry budgets: the retries and fallbacks of a
 * route may be at most `ratio` of its requests over the last 10 s (and always at least `min`, so
 * that a quiet route can still retry). A full outage then adds a bounded share of load to the
 * backend that takes the retries instead of doubling it.
 *
 * The window is ten one-second buckets in a ring; time is given (`now`), so that the counting is
 * a pure function of the calls, and nothing allocates after construction: it runs per request.
 */
const BUCKETS = 10;
const BUCKET_MS = 1000;

export class RetryBudget {
  private readonly requests = new Float64Array(BUCKETS);
  private readonly retries = new Float64Array(BUCKETS);
  /** The second (since the epoch) of the newest bucket. */
  private second = -Infinity;

  constructor(
    /** Share of the window's requests that may be retried, 0–1. */
    public ratio = 0.2,
    /** Retries always allowed per window, whatever the ratio. */
    public min = 3,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request of the route. */
  record(): void {
    this.requests[this.advance()]!++;
  }

  /** Takes one retry from the budget if there is room; false when the budget is spent. */
  tryAcquire(): boolean {
    const cur = this.advance();
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < BUCKETS; i++) {
      requests += this.requests[i]!;
      retries += this.retries[i]!;
    }
    if (retries + 1 > Math.max(this.min, this.ratio * requests)) return false;
    this.retries[cur]!++;
    return true;
  }

  /** Moves the window to now, clearing the buckets of the seconds that passed; the current index. */
  private advance(): number {
    const second = Math.floor(this.now() / BUCKET_MS);
    if (second !== this.second) {
      const gap = Math.min(second - this.second, BUCKETS);
      for (let k = 1; k <= gap; k++) {
        const i = (((second - gap + k) % BUCKETS) + BUCKETS) % BUCKETS;
        this.requests[i] = 0;
        this.retries[i] = 0;
      }
      this.second = second;
    }
    return ((second % BUCKETS) + BUCKETS) % BUCKETS;
  }
}
