import { setTimeout as wait } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { delaySeconds, takeEventLoopDelay } from '../../src/metrics/event-loop-delay.js';

describe('event loop delay', () => {
  it('is what the interval between two timer runs exceeds the resolution by', () => {
    // monitorEventLoopDelay records the interval: a timer due every 2 ms that ran after 2.09 ms was 0.09 ms late.
    expect(delaySeconds(2.09e6, 2)).toBeCloseTo(0.00009, 9);
    expect(delaySeconds(12e6, 2)).toBeCloseTo(0.01, 9);
    // A timer that ran early (libuv rounds to the millisecond) was not late.
    expect(delaySeconds(1.9e6, 2)).toBe(0);
  });

  it('shows a loop blocked for 30 ms', async () => {
    takeEventLoopDelay(); // starts the sampler
    await wait(5); // the sampler's timer has run once
    takeEventLoopDelay(); // a new window: the histogram forgets its last run, so the first run after it records nothing
    await wait(5); // the sampler's timer has run since
    const until = performance.now() + 30;
    while (performance.now() < until) {
      /* blocks the loop */
    }
    // The sampler's timer was due during the block: it runs in this timers phase, before ours.
    await wait(3);
    const d = takeEventLoopDelay();
    expect(d.max).toBeGreaterThanOrEqual(0.028);
    expect(d.p99).toBeLessThanOrEqual(d.max);
  });
});
