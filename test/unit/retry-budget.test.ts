import { describe, expect, it } from 'vitest';
import { RetryBudget } from '../../src/forward/retry-budget.js';

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('retry budget', () => {
  it('grants retries up to the ratio of the requests in the window', () => {
    const c = clock();
    const b = new RetryBudget(0.2, 0, c.now);
    for (let i = 0; i < 50; i++) b.record();
    const granted = Array.from({ length: 20 }, () => b.tryAcquire()).filter(Boolean).length;
    expect(granted).toBe(10);
  });

  it('always grants the minimum, so that a quiet route can retry', () => {
    const c = clock();
    const b = new RetryBudget(0.2, 3, c.now);
    b.record();
    expect([b.tryAcquire(), b.tryAcquire(), b.tryAcquire(), b.tryAcquire()]).toEqual([true, true, true, false]);
  });

  it('at 100% grants one retry per request', () => {
    const c = clock();
    const b = new RetryBudget(1, 0, c.now);
    for (let i = 0; i < 30; i++) {
      b.record();
      expect(b.tryAcquire()).toBe(true);
    }
    expect(b.tryAcquire()).toBe(false);
  });

  it('forgets what is older than 10 s, one second at a time', () => {
    const c = clock(5_000_000);
    const b = new RetryBudget(0.5, 0, c.now);
    for (let i = 0; i < 10; i++) b.record();
    c.t += 5000;
    for (let i = 0; i < 10; i++) b.record();
    // 20 requests in the window: 10 retries.
    expect(Array.from({ length: 12 }, () => b.tryAcquire()).filter(Boolean).length).toBe(10);
    c.t += 5000; // the first 10 requests leave the window; the 10 retries stay (taken at t+5 s)
    expect(b.tryAcquire()).toBe(false);
    c.t += 5000; // everything from t+5 s leaves too
    for (let i = 0; i < 4; i++) b.record();
    expect([b.tryAcquire(), b.tryAcquire(), b.tryAcquire()]).toEqual([true, true, false]);
    c.t += 3_600_000; // a long quiet spell clears the whole window
    expect(b.tryAcquire()).toBe(false);
  });
});
