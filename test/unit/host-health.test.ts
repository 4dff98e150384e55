import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendConfig, NO_RETRIES } from '../../src/config/backend-config.js';
import { ActiveHealth } from '../../src/forward/active-health.js';
import { HostSet } from '../../src/forward/host-set.js';
import { OutlierDetector } from '../../src/forward/outlier.js';
import { startServer, type TestServer } from '../helpers/servers.js';

describe('active health thresholds', () => {
  it('lets the first check decide, then needs the thresholds in a row', () => {
    const h = new ActiveHealth(2, 3);
    expect(h.state).toBe('unknown');
    expect(h.healthy).toBe(true);
    expect(h.record(true)).toBeUndefined(); // unknown → healthy: it already had traffic
    expect(h.state).toBe('healthy');
    expect([h.record(false), h.record(false)]).toEqual([undefined, undefined]);
    expect(h.record(true)).toBeUndefined(); // a pass breaks the run of failures
    expect([h.record(false), h.record(false), h.record(false)]).toEqual([undefined, undefined, 'unhealthy']);
    expect(h.healthy).toBe(false);
    expect([h.record(true), h.record(false), h.record(true)]).toEqual([undefined, undefined, undefined]);
    expect(h.record(true)).toBe('healthy');
  });

  it('is proven after healthy_threshold passes in a row, counted again from restartPasses()', () => {
    const h = new ActiveHealth(3, 2);
    expect([h.record(true), h.record(true), h.record(true)]).toEqual([undefined, undefined, undefined]);
    expect(h.proven).toBe(true);
    h.restartPasses();
    expect(h.proven).toBe(false);
    h.record(false); // one failure: below unhealthy_threshold, still healthy
    expect([h.record(true), h.record(true)]).toEqual([undefined, undefined]);
    expect(h.proven).toBe(false);
    h.record(true);
    expect(h.proven).toBe(true);
    expect(h.state).toBe('healthy');
  });

  it('takes a host that fails its first check out at once', () => {
    const h = new ActiveHealth(2, 3);
    expect(h.record(false)).toBe('unhealthy');
    expect(h.healthy).toBe(false);
  });
});

describe('outlier ejection', () => {
  const policy = { consecutiveFailures: 3, ejectionTimeMs: 1000, maxEjectedPercent: 50 };

  it('ejects after consecutive failures only; a success resets the run', () => {
    const o = new OutlierDetector(policy, 4);
    expect([o.failure(0, 0), o.failure(0, 0)]).toEqual([false, false]);
    o.success(0);
    expect([o.failure(0, 0), o.failure(0, 0), o.failure(0, 10)]).toEqual([false, false, true]);
    expect(o.ejected(0)).toBe(true);
    expect(o.ejectedUntil(0)).toBe(1010);
    // Requests in flight when it was ejected fail too: no second ejection, no extension.
    expect(o.failure(0, 20)).toBe(false);
    expect(o.ejectedUntil(0)).toBe(1010);
  });

  it('ends an ejection when its time is up, or on uneject', () => {
    const o = new OutlierDetector(policy, 2);
    for (let i = 0; i < 3; i++) o.failure(1, 0);
    expect(o.expire(1, 999)).toBe(false);
    expect(o.expire(1, 1000)).toBe(true);
    expect(o.ejected(1)).toBe(false);
    for (let i = 0; i < 3; i++) o.failure(1, 2000);
    expect(o.uneject(1)).toBe(true);
    expect(o.uneject(1)).toBe(false);
    expect(o.ejectedHosts).toBe(0);
  });

  it('never ejects more than max_ejected_percent of the hosts, but always one', () => {
    const o = new OutlierDetector(policy, 4); // 50% of 4 = 2
    const eject = (h: number) => [0, 1, 2].map(() => o.failure(h, 0)).includes(true);
    expect([eject(0), eject(1), eject(2)]).toEqual([true, true, false]);
    expect(o.ejectedHosts).toBe(2);
    o.uneject(0);
    expect(eject(2)).toBe(true);

    const single = new OutlierDetector({ ...policy, maxEjectedPercent: 10 }, 1);
    expect(single.maxEjected).toBe(1);
    expect([0, 1, 2].map(() => single.failure(0, 0))).toEqual([false, false, true]);
    expect(new OutlierDetector({ ...policy, maxEjectedPercent: 0 }, 3).maxEjected).toBe(0);
  });
});

describe('a host ejected while its active checks pass', () => {
  // Requests can fail, and eject a host, within fewer than unhealthy_threshold checks: the checks
  // never take it out, so none brings it back either. Passing healthy_threshold of them ends the
  // ejection all the same, long before ejection_time.
  let server: TestServer;
  let hosts: HostSet;
  let checks = 0;

  beforeAll(async () => {
    server = await startServer((req, res) => {
      if (req.url === '/health') checks++;
      req.resume();
      res.end('ok');
    });
    const url = new URL(server.url);
    const config: BackendConfig = {
      name: 'pipeline',
      url,
      urls: [url],
      balance: 'round_robin',
      connectTimeoutMs: 1_000,
      responseTimeoutMs: 1_000,
      connections: 1,
      queue: 1,
      requestBuffering: 0,
      health: {
        path: '/health',
        intervalMs: 50,
        timeoutMs: 1_000,
        healthyThreshold: 3,
        unhealthyThreshold: 2,
        expect: (s) => s === 200,
        expectText: '200',
      },
      outlier: { consecutiveFailures: 2, ejectionTimeMs: 60_000, maxEjectedPercent: 100 },
      retries: NO_RETRIES,
    };
    hosts = new HostSet(config);
  });
  afterAll(async () => {
    await hosts.destroy();
    await server.close();
  });

  it('takes it back after healthy_threshold passing checks', async () => {
    await expect.poll(() => hosts.status()[0]?.health).toBe('healthy');
    hosts.result(0, false);
    hosts.result(0, false);
    expect(hosts.state).toBe('down');
    expect(hosts.status()[0]).toMatchObject({ available: false, health: 'healthy' });
    const checksAtEjection = checks;
    await expect.poll(() => hosts.state, { timeout: 5_000 }).toBe('up');
    expect(hosts.status()[0]).toEqual({ host: server.url, available: true, health: 'healthy' });
    // The check in flight at the ejection may count: at least healthy_threshold - 1 came after it.
    expect(checks - checksAtEjection).toBeGreaterThanOrEqual(2);
  });
});
