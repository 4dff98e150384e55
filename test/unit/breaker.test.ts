import { describe, expect, it } from 'vitest';
import { ShadowBreaker } from '../../src/shadow/breaker.js';

describe('ShadowBreaker', () => {
  it('opens after the threshold, lets one probe through after the cool-down, closes on success', () => {
    let t = 0;
    const b = new ShadowBreaker(3, 1000, () => t);
    for (let i = 0; i < 3; i++) {
      expect(b.allow()).toBe(true);
      b.failure();
    }
    expect(b.open).toBe(true);
    expect(b.allow()).toBe(false);
    t = 999;
    expect(b.allow()).toBe(false);
    t = 1000;
    expect(b.allow()).toBe(true); // the probe
    expect(b.allow()).toBe(false); // only one at a time
    b.failure();
    expect(b.allow()).toBe(false);
    t = 2000;
    expect(b.allow()).toBe(true);
    b.success();
    expect(b.open).toBe(false);
    expect(b.allow()).toBe(true);
  });

  it('does not open on failures that are not consecutive', () => {
    const b = new ShadowBreaker(3, 1000, () => 0);
    for (let i = 0; i < 10; i++) {
      b.failure();
      b.failure();
      b.success();
    }
    expect(b.open).toBe(false);
  });
});
