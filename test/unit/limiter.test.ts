import { describe, expect, it } from 'vitest';
import { ShadowLimiter } from '../../src/shadow/limiter.js';

describe('ShadowLimiter', () => {
  it('runs up to the limits, queues up to the queue size, then refuses', () => {
    const l = new ShadowLimiter({ maxConcurrent: 3, maxPerRoute: 2, queue: 1 });
    const started: string[] = [];
    const task = (name: string) => () => started.push(name);
    expect(l.submit('a', task('a1'))).toBe(true);
    expect(l.submit('a', task('a2'))).toBe(true);
    expect(l.submit('a', task('a3'))).toBe(true); // queued: route a is at its limit
    expect(l.submit('b', task('b1'))).toBe(true); // another route still runs
    expect(l.canAccept('a')).toBe(false);
    expect(l.submit('a', task('a4'))).toBe(false);
    expect(started).toEqual(['a1', 'a2', 'b1']);
    l.release('a');
    expect(started).toEqual(['a1', 'a2', 'b1', 'a3']);
    expect(l.inFlight).toBe(3);
    expect(l.queued).toBe(0);
  });

  it('lets a waiting task of another route pass one that still does not fit', () => {
    const l = new ShadowLimiter({ maxConcurrent: 2, maxPerRoute: 1, queue: 5 });
    const started: string[] = [];
    l.submit('a', () => started.push('a1'));
    l.submit('b', () => started.push('b1'));
    l.submit('a', () => started.push('a2'));
    l.submit('c', () => started.push('c1'));
    l.release('b');
    expect(started).toEqual(['a1', 'b1', 'c1']);
  });
});
