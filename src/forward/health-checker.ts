/**
 * Active health checks of one backend's hosts: every `interval`, a GET of `path` on each host,
 * over a connection of its own (so that a saturated traffic pool does not fail the check), passes
 * when the status is one of `expect_status` within `timeout`. Results go to `onResult`; the
 * thresholds are ActiveHealth's (active-health.ts). Timers are unref'd and stopped by close().
 */
import { Pool } from 'undici';
import type { HealthCheckConfig } from '../config/backend-config.js';

export class HealthChecker {
  private readonly pools: Pool[];
  private readonly busy: boolean[];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly urls: readonly URL[],
    private readonly config: HealthCheckConfig,
    private readonly onResult: (host: number, passed: boolean, detail: string) => void,
  ) {
    this.pools = urls.map((u) => new Pool(u.origin, { connections: 1, connect: { timeout: config.timeoutMs }, allowH2: false }));
    this.busy = urls.map(() => false);
  }

  start(): void {
    this.checkAll();
    this.timer = setInterval(() => this.checkAll(), this.config.intervalMs);
    this.timer.unref();
  }

  private checkAll(): void {
    for (let i = 0; i < this.urls.length; i++) if (!this.busy[i]) void this.check(i);
  }

  private async check(i: number): Promise<void> {
    this.busy[i] = true;
    let passed = false;
    let detail: string;
    try {
      const r = await this.pools[i]!.request({
        path: this.config.path,
        method: 'GET',
        headers: { 'user-agent': 'switchyard-health-check' },
        headersTimeout: this.config.timeoutMs,
        bodyTimeout: this.config.timeoutMs,
        signal: AbortSignal.timeout(this.config.timeoutMs),
      });
      await r.body.dump();
      passed = this.config.expect(r.statusCode);
      detail = `status ${r.statusCode}`;
    } catch (err) {
      detail = (err as { code?: string }).code ?? (err as Error).message;
    }
    this.busy[i] = false;
    if (!this.closed) this.onResult(i, passed, detail);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.allSettled(this.pools.map((p) => p.destroy()));
  }
}
