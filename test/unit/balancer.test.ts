import { describe, expect, it } from 'vitest';
import { type HostView, pickLeastRequest, pickRoundRobin } from '../../src/forward/balancer.js';

const hosts = (...spec: [boolean, number][]): HostView[] => spec.map(([available, active]) => ({ available, active }));
/** A random source that returns the given values in turn. */
const seq = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe('round robin', () => {
  it('takes the first available host from the cursor on, wrapping around', () => {
    const h = hosts([true, 0], [false, 0], [true, 0]);
    expect([0, 1, 2].map((start) => pickRoundRobin(h, start))).toEqual([0, 2, 2]);
    expect(pickRoundRobin(h, 3 % 3)).toBe(0);
  });

  it('skips the hosts already tried, and returns -1 when none is left', () => {
    const h = hosts([true, 0], [true, 0]);
    expect(pickRoundRobin(h, 0, 0b01)).toBe(1);
    expect(pickRoundRobin(h, 0, 0b11)).toBe(-1);
  });

  it('finds nothing available without panic, any host with it', () => {
    const h = hosts([false, 0], [false, 0]);
    expect(pickRoundRobin(h, 1)).toBe(-1);
    expect(pickRoundRobin(h, 1, 0, true)).toBe(1);
  });
});

describe('least request (power of two choices)', () => {
  it('of the two hosts drawn, takes the one with fewer requests in flight', () => {
    const h = hosts([true, 5], [true, 1], [true, 3]);
    // Draws index 0 then index 0 of the remaining two (→ host 1): host 1 has fewer.
    expect(pickLeastRequest(h, seq(0, 0))).toBe(1);
    // Draws host 2, then host 0: host 2 has fewer.
    expect(pickLeastRequest(h, seq(0.9, 0))).toBe(2);
  });

  it('keeps the first drawn on a tie, and never draws the same host twice', () => {
    const h = hosts([true, 2], [true, 2]);
    expect(pickLeastRequest(h, seq(0.99, 0.99))).toBe(1);
    expect(pickLeastRequest(h, seq(0, 0))).toBe(0);
  });

  it('only draws among available hosts not skipped', () => {
    const h = hosts([false, 0], [true, 9], [true, 7], [false, 0]);
    for (const r of [0, 0.3, 0.6, 0.99]) expect([1, 2]).toContain(pickLeastRequest(h, seq(r, r)));
    expect(pickLeastRequest(h, seq(0.5), 0b0100)).toBe(1);
    expect(pickLeastRequest(h, seq(0.5), 0b0110)).toBe(-1);
    expect(pickLeastRequest(h, seq(0, 0), 0b0110, true)).toBe(0);
  });

  it('spreads load away from a busy host', () => {
    const h = hosts([true, 100], [true, 0], [true, 0]);
    let random = 0.123;
    const next = () => (random = (random * 9301 + 0.49297) % 1);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[pickLeastRequest(h, next)]!++;
    // The busy host only wins when it is not drawn: never, since it always loses a comparison.
    expect(counts[0]).toBe(0);
    expect(counts[1]! + counts[2]!).toBe(3000);
  });
});
