import { describe, expect, it } from 'vitest';
import { decide } from '../../src/router/decide.js';
import { murmur3 } from '../../src/router/murmur3.js';
import { requestFacts } from '../../src/router/request-facts.js';
import { BUCKETS, backendForBucket, bucketOf, compileSplit } from '../../src/router/split.js';
import { parseRuleSet } from '../../src/rules/rule-set.js';

const ORDER = ['legacy', 'pipeline'];

/** Textbook MurmurHash3 x86_32 over bytes, seed 0, to check the string version against. */
function referenceMurmur3(data: Buffer): number {
  let h = 0;
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
  const nblocks = data.length >> 2;
  for (let b = 0; b < nblocks; b++) {
    const k = Math.imul(rotl(Math.imul(data.readUInt32LE(b * 4), c1), 15), c2);
    h = (Math.imul(rotl(h ^ k, 13), 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  const t = nblocks * 4;
  const rem = data.length & 3;
  if (rem >= 3) k ^= data[t + 2]! << 16;
  if (rem >= 2) k ^= data[t + 1]! << 8;
  if (rem >= 1) h ^= Math.imul(rotl(Math.imul(k ^ data[t]!, c1), 15), c2);
  h ^= data.length;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
const keys = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);

function share(percentPipeline: number, salt = 'catalog'): Map<string, string> {
  const split = compileSplit({ legacy: 100 - percentPipeline, pipeline: percentPipeline }, ORDER);
  return new Map(keys.map((k) => [k, backendForBucket(split, bucketOf(salt, k))]));
}

describe('sticky percentage split', () => {
  // Determinism and the exact values are pinned by test/unit/golden-buckets.test.ts.
  it('puts buckets in [0, 10000) and uses the whole range', () => {
    const seen = new Set(keys.map((k) => bucketOf('s', k)));
    expect(Math.min(...seen)).toBe(0);
    expect(Math.max(...seen)).toBe(BUCKETS - 1);
    expect(seen.size).toBeGreaterThan(8000); // 20,000 keys into 10,000 buckets: ~86% expected
  });

  it('uses the documented hash: murmur3_x86_32(utf8(salt + "\\n" + key), 0) mod 10000', () => {
    // Published MurmurHash3 x86_32 vectors.
    expect(murmur3('')).toBe(0);
    expect(murmur3('hello')).toBe(0x248bfa47);
    expect(murmur3('The quick brown fox jumps over the lazy dog')).toBe(0x2e4ff723);
    expect(murmur3('', 1)).toBe(0x514e28b7);
    // Non-ASCII keys hash their UTF-8 bytes, like every other implementation.
    for (const key of ['é', 'Grüße', '用户-42', '🙂x']) expect(murmur3(key)).toBe(referenceMurmur3(Buffer.from(key, 'utf8')));
    // salt + "\n" + key, not key alone nor salt + key.
    expect(bucketOf('catalog', 'user-1')).toBe(1854);
    expect(murmur3('catalog\nuser-1')).toBe(0x2c3a5ade);
    expect(murmur3('user-1') % BUCKETS).not.toBe(1854);
    expect(murmur3('cataloguser-1') % BUCKETS).not.toBe(1854);
  });

  it.each([1, 10, 30, 50, 70, 99.5])('measures %s%% within ±2 points over 20,000 distinct keys', (p) => {
    const onPipeline = [...share(p).values()].filter((b) => b === 'pipeline').length;
    expect(Math.abs((onPipeline / keys.length) * 100 - p)).toBeLessThanOrEqual(2);
  });

  it('keeps every key on its backend while the weights stay, across a reload that changes the rest', () => {
    const v1 = parseRuleSet(
      'default: legacy\nroutes:\n  - { name: catalog, match: { path: "/c/**" }, split: { legacy: 70, pipeline: 30 }, sticky: "header:x-user-id" }\n',
      'v1.yaml',
      { backends: ORDER },
    );
    // Another route first, the split's keys in the other order, another sticky header name case.
    const v2 = parseRuleSet(
      'default: pipeline\nroutes:\n  - { name: admin, match: { path: "/admin/**" }, backend: legacy }\n  - { name: catalog, match: { path: "/c/**" }, split: { pipeline: 30, legacy: 70 }, sticky: "header:X-User-Id" }\n',
      'v2.yaml',
      { backends: ORDER },
    );
    const opts = { backends: new Set(ORDER) };
    const placed = (rules: typeof v1, k: string) => decide(rules, requestFacts('GET', '/c/1', { 'x-user-id': k }), opts).backend;
    const moved = keys.slice(0, 2000).filter((k) => placed(v1, k) !== placed(v2, k));
    expect(moved).toEqual([]);
    // And the documented example lands where docs/rules.md says: bucket 8420 is in 7000-9999.
    expect(placed(v1, 'u-1001')).toBe('pipeline');
    expect(placed(v1, 'user-1')).toBe('legacy'); // bucket 1854
  });

  it('moves nobody off the pipeline on a 30 → 60 ramp, and only pipeline keys on the way back', () => {
    const at30 = share(30);
    const at60 = share(60);
    const movedOff = keys.filter((k) => at30.get(k) === 'pipeline' && at60.get(k) !== 'pipeline');
    expect(movedOff).toEqual([]);
    const movedOn = keys.filter((k) => at30.get(k) === 'legacy' && at60.get(k) === 'pipeline').length;
    expect(movedOn).toBeGreaterThan(keys.length * 0.25);
    const back = share(20);
    const wronglyMoved = keys.filter((k) => at60.get(k) === 'legacy' && back.get(k) !== 'legacy');
    expect(wronglyMoved).toEqual([]);
  });

  it('lays ranges in backend declaration order whatever the YAML order', () => {
    const s = compileSplit({ pipeline: 30, legacy: 70 }, ORDER);
    expect(s.ranges).toEqual([
      { backend: 'legacy', upTo: 7000 },
      { backend: 'pipeline', upTo: 10000 },
    ]);
    expect(compileSplit({ legacy: 100, pipeline: 0 }, ORDER).single).toBe('legacy');
  });

  it('uses hundredths of a percent', () => {
    const s = compileSplit({ legacy: 99.99, pipeline: 0.01 }, ORDER);
    expect(backendForBucket(s, 9998)).toBe('legacy');
    expect(backendForBucket(s, 9999)).toBe('pipeline');
  });
});

describe('decide()', () => {
  const rules = parseRuleSet(
    `default: legacy
routes:
  - name: r
    match: { path: "/r/**" }
    split: { legacy: 50, pipeline: 50 }
    sticky: "header:x-user-id"
  - name: ip
    match: { path: "/ip" }
    split: { legacy: 50, pipeline: 50 }
    sticky: ip
  - name: q
    match: { path: "/q" }
    split: { legacy: 50, pipeline: 50 }
    sticky: "query:uid"
`,
    'rules.yaml',
    { backends: ORDER },
  );
  const opts = { backends: new Set(ORDER) };

  it('places a request without a sticky key value at random and says so', () => {
    const seq = [0.1, 0.9];
    let i = 0;
    const random = () => seq[i++ % 2]!;
    const a = decide(rules, requestFacts('GET', '/r/1', {}), { ...opts, random });
    const b = decide(rules, requestFacts('GET', '/r/1', {}), { ...opts, random });
    expect([a.placement, b.placement]).toEqual(['random', 'random']);
    expect([a.backend, b.backend]).toEqual(['legacy', 'pipeline']);
  });

  it('reads the sticky key from a header, the client address or a query parameter', () => {
    const h = decide(rules, requestFacts('GET', '/r/1', { 'x-user-id': 'u1' }), opts);
    expect(h).toMatchObject({ placement: 'sticky', stickyValue: 'u1', bucket: 8558, backend: 'pipeline' });
    const ip = decide(rules, requestFacts('GET', '/ip', {}, '10.1.2.3'), opts);
    expect(ip).toMatchObject({ placement: 'sticky', stickyValue: '10.1.2.3', bucket: 8378 });
    const q = decide(rules, requestFacts('GET', '/q?uid=7', {}), opts);
    expect(q).toMatchObject({ placement: 'sticky', stickyValue: '7', bucket: 6844, backend: 'pipeline' });
  });
});
