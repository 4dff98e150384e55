/**
 * Per shadow target, built on first use and kept: a connection pool of its own per host (so that
 * a stuck target cannot starve primary traffic to the same backend) and a circuit breaker. A
 * copy goes to the host the backend would pick for a request (`Backend.target()`).
 */
import type { Backend } from '../forward/backend.js';
import { UpstreamClient } from '../forward/upstream-client.js';
import { ShadowBreaker } from './breaker.js';

export class ShadowTargets {
  private readonly pools = new Map<string, UpstreamClient>();
  private readonly breakers = new Map<string, ShadowBreaker>();

  /** `connections`: the shadow concurrency limit, which bounds what a pool can use. */
  constructor(
    private readonly backends: ReadonlyMap<string, Backend>,
    private readonly connections: number,
  ) {}

  pool(backend: string): UpstreamClient {
    const b = this.backends.get(backend)!;
    const target = b.target();
    let p = this.pools.get(target.origin);
    if (!p) {
      // The same client as the primary requests (host-set.ts), so both sides answer over the same
      // protocol; no response timeout of its own: the shadow step times each copy.
      p = new UpstreamClient(target, {
        client: b.config.client,
        connections: this.connections,
        connectTimeoutMs: b.config.connectTimeoutMs,
        responseTimeoutMs: 0,
      });
      this.pools.set(target.origin, p);
    }
    return p;
  }

  breaker(target: string): ShadowBreaker {
    let b = this.breakers.get(target);
    if (!b) this.breakers.set(target, (b = new ShadowBreaker()));
    return b;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pools.values()].map((p) => p.destroy()));
  }
}
