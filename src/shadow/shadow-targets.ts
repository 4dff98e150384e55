/**
 * Per shadow target, built on first use and kept: a connection pool of its own per host (so that
 * a stuck target cannot starve primary traffic to the same backend) and a circuit breaker. A
 * copy goes to the host the backend would pick for a request (`Backend.target()`).
 */
import { Pool } from 'undici';
import type { Backend } from '../forward/backend.js';
import { ShadowBreaker } from './breaker.js';

export class ShadowTargets {
  private readonly pools = new Map<string, Pool>();
  private readonly breakers = new Map<string, ShadowBreaker>();

  /** `connections`: the shadow concurrency limit, which bounds what a pool can use. */
  constructor(
    private readonly backends: ReadonlyMap<string, Backend>,
    private readonly connections: number,
  ) {}

  pool(backend: string): Pool {
    const b = this.backends.get(backend)!;
    const origin = b.target().origin;
    let p = this.pools.get(origin);
    if (!p) {
      // HTTP/1.1 like the primary pool (see host-set.ts), so both sides answer over the same protocol.
      p = new Pool(origin, { connections: this.connections, connect: { timeout: b.config.connectTimeoutMs }, allowH2: false });
      this.pools.set(origin, p);
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
