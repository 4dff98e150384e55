/**
 * Golden sticky buckets: values computed once and written down (docs/rules.md, "Test vectors"),
 * cross-checked with an independent MurmurHash3 implementation in another language, so that a
 * change of hash, encoding, separator or modulus fails here, and so that another tier can check
 * its own implementation against the same table.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { murmur3 } from '../../src/router/murmur3.js';
import { bucketOf } from '../../src/router/split.js';

type Vector = [salt: string, key: string, hash: number, bucket: number];

const LONG_KEY = '0123456789'.repeat(100);

const VECTORS: Vector[] = [
  ['catalog', 'u-1001', 0xecaea4c4, 8420], // the README's `switchyard explain` example
  ['catalog', '', 0x01c185aa, 9882], // empty key
  ['', '', 0x924ee0ab, 2859], // empty salt and key: the hash of "\n" alone
  ['', 'user-1', 0xe62ffe2c, 4940],
  ['catalog', 'user-1', 0x2c3a5ade, 1854],
  ['api', 'u42', 0x9b61d1bd, 9165],
  ['search', 's1', 0x8deeb60a, 1626],
  ['catalog', '10.1.2.3', 0xee9e0252, 2690], // sticky: ip
  ['catalog', '::1', 0x085332b0, 192],
  ['catalog', 'a, b', 0xe156a289, 1305], // a repeated header, joined
  ['catalog', 'é', 0x2925d37c, 4828], // two UTF-8 bytes
  ['catalog', 'Grüße', 0x7d5d9fd5, 7765],
  ['catalog', '用户-42', 0xbd426e19, 7385], // three-byte characters
  ['catalog', '🙂', 0xed4d9807, 5383], // a surrogate pair: four UTF-8 bytes
  ['catalog', LONG_KEY, 0x82e3270b, 4747], // 1000 bytes: many 4-byte blocks
  ['half:shadow', 'u1', 0x5caa864a, 9370], // shadow sampling's salt
  ['catalog:shadow', 'u-1001', 0x357510c9, 4457],
];

describe('golden sticky buckets', () => {
  it.each(VECTORS)('salt %j, key %j: murmur3 %i, bucket %i', (salt, key, hash, bucket) => {
    expect(murmur3(salt + '\n' + key)).toBe(hash);
    expect(bucketOf(salt, key)).toBe(bucket);
  });

  it('covers the cases another implementation gets wrong', () => {
    expect(VECTORS.length).toBeGreaterThanOrEqual(12);
    expect(VECTORS.some(([, k]) => k === '')).toBe(true);
    expect(VECTORS.some(([, k]) => /[^\x00-\x7f]/.test(k))).toBe(true);
    expect(VECTORS.some(([, k]) => Buffer.byteLength(k) >= 1000)).toBe(true);
  });

  it('is the table published in docs/rules.md, row for row', () => {
    const doc = readFileSync('docs/rules.md', 'utf8');
    const section = doc.slice(doc.indexOf('### Test vectors'));
    const rows = [...section.matchAll(/^\| `(".*?")` \| `(".*?")(?: × (\d+))?` \| `0x([0-9a-f]{8})` \| (\d+) \|$/gm)].map(
      ([, salt, key, times, hash, bucket]): Vector => [
        JSON.parse(salt!) as string,
        (JSON.parse(key!) as string).repeat(Number(times ?? 1)),
        parseInt(hash!, 16),
        Number(bucket),
      ],
    );
    expect(rows).toEqual(VECTORS);
  });
});
