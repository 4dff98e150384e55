import { gzipSync, brotliCompressSync, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compareResponses, generalizeField, type CapturedResponse } from '../../src/diff/compare.js';
import { compileShadow } from '../../src/rules/shadow-policy.js';
import type { PointerPattern } from '../../src/diff/compare-policy.js';

const ptr = (s: string): PointerPattern => s.slice(1).split('/');
function policy(over: { ignore_headers?: string[]; ignore_json?: string[]; unordered_json?: string[]; numeric_tolerance?: number; headers?: string[] } = {}) {
  return compileShadow({
    percent: 100,
    methods: ['GET'],
    max_body: 1024 * 1024,
    timeout: 1000,
    redact_json: [],
    compare: {
      headers: over.headers,
      ignore_headers: over.ignore_headers,
      ignore_json: over.ignore_json?.map(ptr),
      unordered_json: over.unordered_json?.map(ptr),
      numeric_tolerance: over.numeric_tolerance,
    },
  }).compare;
}

function json(value: unknown, headers: Record<string, string> = {}, status = 200): CapturedResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: Buffer.from(JSON.stringify(value)), truncated: false };
}

const item = { id: 1, name: 'widget', price: 9.99, tags: ['a', 'b'], meta: { generated_at: '2026-01-01T00:00:00Z', etag: 'x' } };

describe('compareResponses', () => {
  it('finds identical answers a match', () => {
    expect(compareResponses(json(item), json(item), policy())).toEqual({ result: 'match', diffs: [], noise: [] });
  });

  it('names the JSON Pointer of one changed field', () => {
    const c = compareResponses(json(item), json({ ...item, price: 10.99 }), policy());
    expect(c.result).toBe('mismatch');
    expect(c.diffs).toEqual([{ field: '/price', kind: 'changed', a: 9.99, b: 10.99 }]);
  });

  it('reports added, removed and type-changed values, escaping pointer tokens', () => {
    const c = compareResponses(json({ a: 1, 'x/y': 1, list: [1, 2], n: 1 }), json({ b: 1, 'x/y': 2, list: [1], n: '1' }), policy());
    expect(c.diffs).toEqual([
      { field: '/a', kind: 'removed', a: 1 },
      { field: '/x~1y', kind: 'changed', a: 1, b: 2 },
      { field: '/list/1', kind: 'removed', a: 2 },
      { field: '/n', kind: 'type', a: 1, b: '1' },
      { field: '/b', kind: 'added', b: 1 },
    ]);
  });

  it('ignores configured JSON paths, with * for one level, and configured headers', () => {
    const a = json({ items: [{ id: 1, etag: 'a' }, { id: 2, etag: 'b' }], meta: { generated_at: 1 } }, { date: 'Mon', 'cache-control': 'no-cache' });
    const b = json({ items: [{ id: 1, etag: 'c' }, { id: 2, etag: 'd' }], meta: { generated_at: 2 } }, { date: 'Tue', 'cache-control': 'no-cache' });
    const p = policy({ ignore_json: ['/meta/generated_at', '/items/*/etag'], headers: ['date', 'cache-control'], ignore_headers: ['date'] });
    expect(compareResponses(a, b, p).result).toBe('match');
    expect(compareResponses(a, b, policy({ headers: ['date'] })).diffs.map((d) => d.field)).toEqual(['header:date', '/items/0/etag', '/items/1/etag', '/meta/generated_at']);
  });

  it('compares arrays under unordered_json as multisets', () => {
    const a = json({ items: [{ id: 1 }, { id: 2 }, { id: 2 }] });
    const p = policy({ unordered_json: ['/items'] });
    expect(compareResponses(a, json({ items: [{ id: 2 }, { id: 1 }, { id: 2 }] }), p).result).toBe('match');
    const c = compareResponses(a, json({ items: [{ id: 2 }, { id: 1 }, { id: 3 }] }), p);
    expect(c.diffs).toEqual([
      { field: '/items/*', kind: 'removed', a: { id: 2 } },
      { field: '/items/*', kind: 'added', b: { id: 3 } },
    ]);
    expect(compareResponses(a, json({ items: [{ id: 2 }, { id: 1 }, { id: 2 }] }), policy()).result).toBe('mismatch');
  });

  it('accepts numbers within the tolerance', () => {
    expect(compareResponses(json({ x: 100 }), json({ x: 100.05 }), policy({ numeric_tolerance: 0.001 })).result).toBe('match');
    expect(compareResponses(json({ x: 100 }), json({ x: 101 }), policy({ numeric_tolerance: 0.001 })).result).toBe('mismatch');
  });

  it('decodes gzip, br and deflate before comparing', () => {
    const raw = Buffer.from(JSON.stringify(item));
    for (const [enc, body] of [
      ['gzip', gzipSync(raw)],
      ['br', brotliCompressSync(raw)],
      ['deflate', deflateSync(raw)],
    ] as const) {
      const zipped: CapturedResponse = { status: 200, headers: { 'content-type': 'application/json', 'content-encoding': enc }, body, truncated: false };
      expect(compareResponses(json(item), zipped, policy()).result, enc).toBe('match');
    }
  });

  it('compares status and the default headers', () => {
    const c = compareResponses(json(item, { 'content-type': 'application/json' }, 200), json(item, { 'content-type': 'application/json; charset=utf-8', location: '/x' }, 201), policy());
    expect(c.diffs).toEqual([
      { field: 'status', kind: 'changed', a: 200, b: 201 },
      { field: 'header:content-type', kind: 'changed', a: 'application/json', b: 'application/json; charset=utf-8' },
      { field: 'header:location', kind: 'added', a: undefined, b: '/x' },
    ]);
  });

  it('compares text by lines and anything else by length and hash', () => {
    const text = (s: string): CapturedResponse => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from(s), truncated: false });
    expect(compareResponses(text('a\nb\nc'), text('a\nb\nc'), policy()).result).toBe('match');
    expect(compareResponses(text('a\nb\nc'), text('a\nB\nc'), policy()).diffs).toEqual([{ field: 'body', kind: 'changed', a: 'b', b: 'B' }]);
    const bin = (b: number[]): CapturedResponse => ({ status: 200, headers: { 'content-type': 'image/png' }, body: Buffer.from(b), truncated: false });
    expect(compareResponses(bin([1, 2, 0]), bin([1, 2, 0]), policy()).result).toBe('match');
    expect(compareResponses(bin([1, 2, 0]), bin([1, 2, 3, 0]), policy()).diffs[0]).toMatchObject({ field: 'body', a: expect.stringMatching(/^3 bytes, sha256 /) });
  });

  it('lists the first changed lines of a text body, and how many more there are', () => {
    const text = (s: string): CapturedResponse => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from(s), truncated: false });
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i}`);
    const changed = lines.map((l, i) => (i % 2 ? l.toUpperCase() : l));
    const c = compareResponses(text(lines.join('\n')), text(changed.join('\n')), policy());
    const removed = lines.filter((_, i) => i % 2).slice(0, 10);
    expect(c.diffs).toEqual([
      { field: 'body', kind: 'changed', a: [...removed, '… 1490 more lines'].join('\n'), b: [...removed.map((l) => l.toUpperCase()), '… 1490 more lines'].join('\n') },
    ]);
    // An insertion shows on one side only; lines that only moved still differ.
    expect(compareResponses(text('a\nb\nc'), text('a\nb\nx\nc'), policy()).diffs).toEqual([{ field: 'body', kind: 'changed', a: '', b: 'x' }]);
    expect(compareResponses(text('h\na\nb\nt'), text('h\nb\na\nt'), policy()).diffs).toEqual([{ field: 'body', kind: 'changed', a: 'a\nb', b: 'b\na' }]);
  });

  it('skips, with a reason, bodies over max_body', () => {
    expect(compareResponses({ ...json(item), truncated: true }, json(item), policy())).toMatchObject({ result: 'skipped', reason: 'body_too_large' });
  });

  it('reports known noise as noise, not as a mismatch', () => {
    const noise = new Set(['/items/*/etag']);
    const c = compareResponses(json({ items: [{ etag: 'a' }] }), json({ items: [{ etag: 'b' }] }), policy(), (f) => noise.has(f));
    expect(c).toMatchObject({ result: 'noise', diffs: [], noise: [{ field: '/items/0/etag' }] });
    expect(generalizeField('/items/12/tags/3')).toBe('/items/*/tags/*');
    expect(generalizeField('header:date')).toBe('header:date');
  });
});
