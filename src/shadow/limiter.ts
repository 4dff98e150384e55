/**
 * Bounded concurrency for shadow requests, global and per route, with a bounded FIFO queue.
 * When everything is full the shadow is dropped: the primary request never waits for it.
 */

export interface LimiterConfig {
  maxConcurrent: number;
  maxPerRoute: number;
  queue: number;
}

interface Waiting {
  route: string;
  start: () => void;
}

export class ShadowLimiter {
  private active = 0;
  private readonly perRoute = new Map<string, number>();
  private readonly waiting: Waiting[] = [];

  constructor(private readonly cfg: LimiterConfig) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  private fits(route: string): boolean {
    return this.active < this.cfg.maxConcurrent && (this.perRoute.get(route) ?? 0) < this.cfg.maxPerRoute;
  }

  private take(route: string): void {
    this.active++;
    this.perRoute.set(route, (this.perRoute.get(route) ?? 0) + 1);
  }

  /** Whether submit() would accept a task for `route` now (run or queue). */
  canAccept(route: string): boolean {
    return this.fits(route) || this.waiting.length < this.cfg.queue;
  }

  /**
   * Runs `start` now if there is room, or later from the queue; returns false (and never calls
   * `start`) when the queue is full too. Every started task must call release(route) once.
   */
  submit(route: string, start: () => void): boolean {
    if (this.fits(route)) {
      this.take(route);
      start();
      return true;
    }
    if (this.waiting.length >= this.cfg.queue) return false;
    this.waiting.push({ route, start });
    return true;
  }

  release(route: string): void {
    this.active--;
    const n = (this.perRoute.get(route) ?? 1) - 1;
    if (n <= 0) this.perRoute.delete(route);
    else this.perRoute.set(route, n);
    // Start the first waiting task that fits (a route at its own limit does not block others).
    const i = this.waiting.findIndex((w) => this.fits(w.route));
    if (i !== -1) {
      const [w] = this.waiting.splice(i, 1);
      this.take(w!.route);
      w!.start();
    }
  }
}
