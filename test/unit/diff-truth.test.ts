import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CapturedResponse, compareResponses } from '../../src/diff/compare.js';
import { parseDecimal, withinTolerance } from '../../src/diff/decimal.js';
import { ExactNumber, parseJsonExact } from '../../src/diff/exact-json.js';
import { compileShadow } from '../../src/rules/shadow-policy.js';

// Issue 12, "diff truth": the comparer never calls two different values equal, nor two equal
// values different. Bodies are written as text here, since JSON.stringify cannot write them.
const policy = (numeric_tolerance?: number) =>
  compileShadow({ percent: 100, methods: ['GET'], max_body: 1 << 20, timeout: 1000, redact_json: [], compare: { numeric_tolerance } }).compare;
const body = (text: string | Buffer, type = 'application/json'): CapturedResponse => ({
  status: 200,
  headers: { 'content-type': type },
  body: Buffer.isBuffer(text) ? text : Buffer.from(text),
  truncated: false,
});
const compare = (a: string | Buffer, b: string | Buffer, tolerance?: number, type?: string) =>
  compareResponses(body(a, type), body(b, type), policy(tolerance));

describe('numbers are compared as exact decimals', () => {
  it('finds every spelling of one value equal', () => {
    const spellings = ['1', '1.0', '1e0', '10e-1', '0.1e1', '1.000000000000000000000000', '100000000000000000000e-20', '1E+0'];
    for (const a of spellings) for (const b of spellings) expect(compare(`{"x":${a}}`, `{"x":${b}}`).result, `${a} vs ${b}`).toBe('match');
    expect(compare('[0, -0, 0.0e5]', '[-0.0, 0, 0e-999]').result).toBe('match');
  });

  it('tells integers past 2^53 apart, at any length', () => {
    expect(compare('{"id":9007199254740993}', '{"id":9007199254740992}').diffs).toEqual([
      { field: '/id', kind: 'changed', a: '9007199254740993', b: 9007199254740992 },
    ]);
    expect(compare('{"id":12345678901234567890}', '{"id":12345678901234567891}').diffs).toEqual([
      { field: '/id', kind: 'changed', a: '12345678901234567890', b: '12345678901234567891' },
    ]);
    const long = '7'.repeat(300);
    expect(compare(`[${long}1]`, `[${long}2]`).diffs).toEqual([{ field: '/0', kind: 'changed', a: `${long}1`, b: `${long}2` }]);
    expect(compare(`[${long}1]`, `[${long}1.0]`).result).toBe('match');
  });

  it('tells apart decimals that one double holds, and values past the range of doubles', () => {
    expect(compare('[0.1]', '[0.10000000000000000001]').result).toBe('mismatch');
    expect(compare('[1e400]', '[1e401]').result).toBe('mismatch');
    expect(compare('[1e-400]', '[0]').result).toBe('mismatch');
    expect(compare('[1e400]', '[10e399]').result).toBe('match');
  });

  it('applies numeric_tolerance to the exact values', () => {
    // |0.4 - 0.3| = 0.1 exactly; in doubles it is 0.10000000000000003 and would fail.
    expect(compare('[0.3]', '[0.4]', 0.1).result).toBe('match');
    expect(compare('[0.3]', '[0.40000000000000000001]', 0.1).result).toBe('mismatch');
    // Relative: 1e-19 × 12345678901234567891 ≈ 1.23, so a difference of 1 passes and 2 does not.
    expect(compare('[12345678901234567890]', '[12345678901234567891]', 1e-19).result).toBe('match');
    expect(compare('[12345678901234567890]', '[12345678901234567892]', 1e-19).result).toBe('mismatch');
    expect(compare('[100]', '[100.05]', 0.001).result).toBe('match');
    expect(compare('[100]', '[101]', 0.001).result).toBe('mismatch');
  });

  it('costs nothing more for exponents far apart', () => {
    expect(compare('[1e-999999999]', '[0]', 0.001).result).toBe('match');
    expect(compare('[1e999999999]', '[1.0000000000000001e999999999]', 1e-15).result).toBe('match');
    expect(compare('[1e999999999]', '[1.01e999999999]', 1e-15).result).toBe('mismatch');
    expect(compare('[1e999999999]', '[-1e-999999999]', 0.5).result).toBe('mismatch');
  });

  it('keeps unordered arrays exact too', () => {
    const p = compileShadow({
      percent: 100,
      methods: ['GET'],
      max_body: 1 << 20,
      timeout: 1000,
      redact_json: [],
      compare: { unordered_json: [['ids']] },
    }).compare;
    const c = (a: string, b: string) => compareResponses(body(a), body(b), p);
    expect(c('{"ids":[9007199254740993, 1, 2]}', '{"ids":[2, 1.0, 9007199254740993.0]}').result).toBe('match');
    expect(c('{"ids":[9007199254740993, 1]}', '{"ids":[1, 9007199254740992]}').diffs).toEqual([
      { field: '/ids/*', kind: 'removed', a: '9007199254740993' },
      { field: '/ids/*', kind: 'added', b: 9007199254740992 },
    ]);
  });
});

describe('strings are compared by code points', () => {
  it('finds escaped and literal spellings of one string equal', () => {
    expect(compare('["é😀/"]', '["\\u00e9\\uD83D\\ude00\\/"]').result).toBe('match');
    expect(compare('{"\\u007e":1}', '{"~":1}').result).toBe('match');
  });

  it("keeps escaped keys right where V8's JSON.parse returns a key it parsed before", () => {
    // nodejs/node#63785 (open on Node 24 and 26): a `\\` key parsed first, then `\u007E` comes
    // back as `\\`. Whether this Node has the bug or not, the comparer must see `~`.
    JSON.parse('{"h":[],"\\\\":0}');
    expect(Object.keys(parseJsonExact('{"h":1,"\\u007E":2}') as object)).toEqual(['h', '~']);
    JSON.parse('{"\\\\":0}');
    expect(parseJsonExact('{"a\\n":{"\\"":1}}')).toEqual({ 'a\n': { '"': 1 } });
    JSON.parse('{"\\\\":0}');
    expect(compare('{"\\u007E":false,"\\ud800":null}', '{"~":false,"\\uD800":null}').result).toBe('match');
  });

  it('tells apart strings that differ in code points only, without normalizing', () => {
    expect(compare('["é"]', '["e\\u0301"]').diffs).toEqual([{ field: '/0', kind: 'changed', a: 'é', b: 'e\u0301' }]);
    expect(compare('["\\ud800"]', '["\\udc00"]').result).toBe('mismatch');
  });

  it('compares bodies that are not valid UTF-8 by their bytes', () => {
    // Decoding would turn both into "a\uFFFD" and call them equal.
    const [x, y] = [Buffer.from([0x5b, 0x22, 0x61, 0xff, 0x22, 0x5d]), Buffer.from([0x5b, 0x22, 0x61, 0xfe, 0x22, 0x5d])];
    expect(compare(x, y).diffs).toEqual([
      { field: 'body', kind: 'changed', a: expect.stringMatching(/^6 bytes, sha256 /), b: expect.stringMatching(/^6 bytes, sha256 /) },
    ]);
    expect(compare(x, y, undefined, 'text/plain').result).toBe('mismatch');
    expect(compare(x, Buffer.from(x)).result).toBe('match');
  });
});

describe('parseJsonExact', () => {
  it('keeps a number a double cannot hold as its digits, and every other one as a JS number', () => {
    expect(parseJsonExact('[9007199254740993, 9007199254740992, 1.50, 1e400, 12345678901234567890123]')).toEqual([
      new ExactNumber('9007199254740993'),
      9007199254740992,
      1.5,
      new ExactNumber('1e400'),
      new ExactNumber('12345678901234567890123'),
    ]);
    // As JSON.parse: the last duplicate key wins, and `__proto__` is an own key, not the prototype.
    const o = parseJsonExact('{"a":1,"a":2,"__proto__":3, "n": 1234567890123456789}') as Record<string, unknown>;
    expect(Object.entries(o)).toEqual([
      ['a', 2],
      ['__proto__', 3],
      ['n', new ExactNumber('1234567890123456789')],
    ]);
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
  });

  it('refuses what JSON.parse refuses, on either path', () => {
    const long = '"1234567890123456"'; // digits that send a text to the tokenizer
    for (const bad of [
      '[01]',
      '[1.]',
      '[.5]',
      '[+1]',
      '["\\x"]',
      '["a\nb"]',
      '[1,]',
      '{"a":1,}',
      '[1 2]',
      'tru',
      '[] []',
      '{"a" 1}',
      '\ufeff[]',
      '["\\ud8"]',
    ]) {
      expect(() => JSON.parse(bad), bad).toThrow(SyntaxError);
      expect(() => parseJsonExact(bad), bad).toThrow(SyntaxError);
      expect(() => parseJsonExact(`[${long},${bad}]`), bad).toThrow(SyntaxError);
    }
  });
});

describe('withinTolerance', () => {
  // An oracle on integers: every decimal with an exponent of at least -K, scaled by 10^K.
  const K = 40; // wide enough for gaps between terms, which the cluster sum must bridge
  const dec = fc.record({ neg: fc.boolean(), coef: fc.bigInt({ min: 0n, max: 10n ** 20n }), exp: fc.integer({ min: -K, max: K }) });
  const scaled = (d: { neg: boolean; coef: bigint; exp: number }) => (d.neg ? -1n : 1n) * d.coef * 10n ** BigInt(d.exp + K);
  const text = (d: { neg: boolean; coef: bigint; exp: number }) => `${d.neg ? '-' : ''}${d.coef}e${d.exp}`;
  const abs = (x: bigint) => (x < 0n ? -x : x);

  it('agrees with exact integer arithmetic: |a-b| <= t·max(1, |a|, |b|)', () => {
    fc.assert(
      fc.property(dec, dec, dec, (a, b, t) => {
        const [A, B, T] = [scaled(a), scaled(b), abs(scaled(t))];
        const one = 10n ** BigInt(K);
        const m = [one, abs(A), abs(B)].reduce((x, y) => (y > x ? y : x));
        const expected = abs(A - B) * one <= T * m;
        expect(withinTolerance(parseDecimal(text(a)), parseDecimal(text(b)), parseDecimal(text({ ...t, neg: false })))).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
