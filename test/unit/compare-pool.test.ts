import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type CapturedResponse, compareResponses } from '../../src/diff/compare.js';
import { compileShadow } from '../../src/rules/shadow-policy.js';
import { ComparePool } from '../../src/shadow/compare-pool.js';

const policy = compileShadow({
  percent: 100,
  methods: ['GET'],
  max_body: 1 << 24,
  timeout: 1000,
  redact_json: [],
  compare: { ignore_headers: ['date'] },
}).compare;

/** A response as the capture makes it: Buffer.concat, so a body above 4 KiB owns its memory. */
function response(body: string, type: string, gzip = false, status = 200): CapturedResponse {
  const raw = Buffer.from(body);
  const bytes = gzip ? gzipSync(raw) : raw;
  return { status, headers: { 'content-type': type, ...(gzip ? { 'content-encoding': 'gzip' } : {}) }, body: Buffer.concat([bytes]), truncated: false };
}

/** A JSON page of `n` items, some of them changed by `seed`. */
function page(n: number, seed: number): string {
  return JSON.stringify({
    items: Array.from({ length: n }, (_, i) => ({
      id: i,
      name: `item ${i}`,
      price: (i * 7 + (i % 13 === seed % 13 ? seed : 0)) / 100,
      tags: ['a', i % 3 ? 'b' : 'c'],
    })),
  });
}

const copyOf = (r: CapturedResponse): CapturedResponse => ({ ...r, body: Buffer.from(r.body) });

describe('the compare pool', () => {
  // Every comparison goes to the worker (inline threshold 0), against the comparer inline.
  const pooled = new ComparePool(1, 0);
  afterAll(() => pooled.close());

  it('gives the same verdicts in the worker as inline, and gives the bodies back', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 50 }),
        fc.constantFrom('application/json', 'text/plain', 'application/octet-stream'),
        fc.boolean(),
        fc.boolean(),
        async (n, s1, s2, type, gzip, withSecond) => {
          const a = response(page(n, 0), type, gzip);
          const b = response(page(n, s1), type, gzip && s1 % 2 === 0, s1 === 7 ? 500 : 200);
          const second = withSecond ? response(page(n, s2), type) : undefined;
          const expected = { copy: compareResponses(a, b, policy), second: second && compareResponses(a, second, policy) };
          const before = [a, b, second].map((r) => r && copyOf(r));
          const got = await pooled.compare(a, b, policy, second);
          expect(got).toEqual({ ...expected, where: 'worker', seconds: expect.any(Number) });
          expect(got.seconds).toBeGreaterThan(0);
          // The judge reads the bodies again for its samples.
          [a, b, second].forEach((r, i) => {
            if (r) expect(r.body.equals(before[i]!.body)).toBe(true);
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('transfers a large body to the worker instead of copying it', async () => {
    const a = response(page(2000, 0), 'application/json');
    const b = response(page(2000, 3), 'application/json');
    expect(a.body.length).toBeGreaterThan(4 * 1024);
    const original = a.body;
    const got = await pooled.compare(a, b, policy);
    expect(got.copy.result).toBe('mismatch');
    expect(original.buffer.byteLength).toBe(0); // detached: it went to the worker
    expect(a.body.length).toBeGreaterThan(4 * 1024); // and came back
  });

  it('compares everything inline with 0 threads (the bodies stay where they are)', async () => {
    const a = response(page(5, 0), 'application/json');
    const b = response(page(5, 1), 'application/json');
    const inline = new ComparePool(0, 0);
    const body = a.body;
    expect(await inline.compare(a, b, policy)).toEqual({
      copy: compareResponses(a, b, policy),
      second: undefined,
      where: 'inline',
      seconds: expect.any(Number),
    });
    expect(a.body).toBe(body);
    await inline.close();
  });
});
