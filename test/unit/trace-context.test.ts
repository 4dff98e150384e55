import { describe, expect, it } from 'vitest';
import { childTraceparent, parseTraceContext, startTrace } from '../../src/http/trace-context.js';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('W3C trace context', () => {
  it('reads a valid traceparent and keeps tracestate with it', () => {
    expect(parseTraceContext(VALID, 'congo=t61rcWkgMzE')).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      parentId: '00f067aa0ba902b7',
      flags: '01',
      state: 'congo=t61rcWkgMzE',
    });
    expect(parseTraceContext(VALID, ['a=1', 'b=2'])?.state).toBe('a=1,b=2');
  });

  it.each([
    ['missing', undefined],
    ['repeated', [VALID, VALID]],
    ['upper-case hex', VALID.toUpperCase()],
    ['version ff', `ff${VALID.slice(2)}`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['all-zero parent id', `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`],
    ['short', VALID.slice(0, 54)],
    ['version 00 with more fields', `${VALID}-extra`],
    ['wrong separators', VALID.replace(/-/g, '_')],
    ['non-hex flags', `${VALID.slice(0, 53)}zz`],
  ])('refuses a traceparent that is %s', (_why, value) => {
    expect(parseTraceContext(value as string | string[] | undefined, 'a=1')).toBeUndefined();
  });

  it('accepts a later version with more fields, as the spec asks', () => {
    expect(parseTraceContext(`01${VALID.slice(2)}-later`, undefined)?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('makes sibling spans of the same trace', () => {
    const trace = parseTraceContext(VALID, undefined)!;
    const a = childTraceparent(trace);
    const b = childTraceparent(trace);
    expect(parseTraceContext(a, undefined)?.traceId).toBe(trace.traceId);
    expect(parseTraceContext(b, undefined)?.traceId).toBe(trace.traceId);
    expect(a.split('-')[2]).not.toBe(b.split('-')[2]);
    expect(a.split('-')[2]).not.toBe(trace.parentId);
    expect(a.endsWith('-01')).toBe(true);
  });

  it('starts sampled traces with distinct random ids, also past the pooled random bytes', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const t = startTrace();
      expect(t.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(t.flags).toBe('01');
      expect(parseTraceContext(childTraceparent(t), undefined)).toBeDefined();
      ids.add(t.traceId);
    }
    expect(ids.size).toBe(1000);
  });
});
