/**
 * Per shadow target, built on first use and kept: a connection pool of its own (so that a stuck
 * target cannot starve primary traffic to the same backend) and a circuit breaker.
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
    let p = this.pools.get(backend);
    if (!p) {
      const b = this.backends.get(backend)!.config;
      // HTTP/1.1 like the primary pool (see http-backend.ts), so both sides answer over the same protocol.
      p = new Pool(b.url.origin, { connections: this.connections, connect: { timeout: b.connectTimeoutMs }, allowH2: false });
      this.pools.set(backend, p);
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
