import { describe, expect, it } from 'vitest';
import { ActiveHealth } from '../../src/forward/active-health.js';
import { OutlierDetector } from '../../src/forward/outlier.js';

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
