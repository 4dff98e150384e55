import { describe, expect, it } from 'vitest';
import { decide } from '../../src/router/decide.js';
import { requestFacts } from '../../src/router/request-facts.js';
import { parseRuleSet, type Route } from '../../src/rules/rule-set.js';
import { isSampled, shadowTarget } from '../../src/shadow/sampling.js';

const BACKENDS = ['legacy', 'pipeline'];

/** A route named `name` with `shadow: { ... }` as written in a rule file. */
function route(name: string, shadow: string, extra = ''): Route & { shadow: NonNullable<Route['shadow']> } {
  const rules = parseRuleSet(
    `default: legacy\nroutes:\n  - { name: ${name}, match: { path: "/x" }, backend: legacy, shadow: ${shadow}${extra} }\n`,
    'rules.yaml',
    { backends: BACKENDS },
  );
  const r = rules.routes[0]!;
  return r as Route & { shadow: NonNullable<Route['shadow']> };
}

const sampled = (r: ReturnType<typeof route>, key: string | undefined, random?: () => number) => isSampled(r.shadow, r, key, random);
const keys = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);

describe('shadow sampling', () => {
  it('copies every request at 100 % and none at 0 %, whatever the key or the dice', () => {
    const all = route('all', '{ percent: 100 }');
    const none = route('none', '{ percent: 0 }');
    for (const key of [undefined, '', 'u1', 'u-1001']) {
      for (const roll of [0, 0.5, 0.999999]) {
        expect(sampled(all, key, () => roll)).toBe(true);
        expect(sampled(none, key, () => roll)).toBe(false);
      }
    }
    expect(route('plain', '{}').shadow.percent).toBe(100); // the default
  });

  it('samples a key when its bucket under "SALT:shadow" is below percent × 100 (docs/rules.md test vectors)', () => {
    // Salt "catalog:shadow", key "u-1001": bucket 4457. Salt "half:shadow", key "u1": bucket 9370.
    expect(sampled(route('catalog', '{ percent: 44.58 }'), 'u-1001')).toBe(true);
    expect(sampled(route('catalog', '{ percent: 44.57 }'), 'u-1001')).toBe(false);
    expect(sampled(route('half', '{ percent: 93.71 }'), 'u1')).toBe(true);
    expect(sampled(route('half', '{ percent: 93.7 }'), 'u1')).toBe(false);
    // The route's salt, not its name, when one is set.
    expect(sampled(route('renamed', '{ percent: 44.58 }', ', salt: catalog'), 'u-1001')).toBe(true);
    expect(sampled(route('renamed', '{ percent: 44.57 }', ', salt: catalog'), 'u-1001')).toBe(false);
  });

  it('keeps the same keys sampled: the dice play no part when there is a key', () => {
    const r = route('sticky', '{ percent: 30 }');
    const heads = keys.slice(0, 2000).map((k) => sampled(r, k, () => 0));
    const tails = keys.slice(0, 2000).map((k) => sampled(r, k, () => 0.999999));
    expect(tails).toEqual(heads);
  });

  it.each([1, 10, 25, 50, 90])('samples %i percent of 20,000 keys within ±1.5 points', (percent) => {
    const r = route('dist', `{ percent: ${percent} }`);
    const share = (keys.filter((k) => sampled(r, k)).length / keys.length) * 100;
    expect(Math.abs(share - percent)).toBeLessThanOrEqual(1.5);
  });

  it('samples independently of the split: about half the pipeline keys of a 50/50 route at 50 %', () => {
    const rules = parseRuleSet(
      'default: legacy\nroutes:\n  - { name: r, match: { path: "/x" }, split: { legacy: 50, pipeline: 50 }, sticky: ip, shadow: { percent: 50 } }\n',
      'rules.yaml',
      { backends: BACKENDS },
    );
    const r = rules.routes[0]! as ReturnType<typeof route>;
    const onPipeline = keys.filter((k) => decide(rules, requestFacts('GET', '/x', {}, k), { backends: new Set(BACKENDS) }).backend === 'pipeline');
    expect(onPipeline.length).toBeGreaterThan(keys.length * 0.45);
    const share = onPipeline.filter((k) => sampled(r, k)).length / onPipeline.length;
    expect(Math.abs(share - 0.5)).toBeLessThanOrEqual(0.02);
  });

  it('rolls the dice for a request without a key: sampled below percent × 100 of 10,000', () => {
    const r = route('nokey', '{ percent: 25 }');
    expect(sampled(r, undefined, () => 0)).toBe(true);
    expect(sampled(r, undefined, () => 0.2499)).toBe(true); // bucket 2499
    expect(sampled(r, undefined, () => 0.25)).toBe(false); // bucket 2500
    expect(sampled(r, undefined, () => 0.999999)).toBe(false);
  });
});

describe('shadow target', () => {
  it('is `to` when set, else the other of legacy and pipeline, else the next backend declared', () => {
    const plain = route('p', '{}').shadow;
    expect(shadowTarget(plain, 'legacy', BACKENDS)).toBe('pipeline');
    expect(shadowTarget(plain, 'pipeline', BACKENDS)).toBe('legacy');
    expect(shadowTarget(route('t', '{ to: legacy }').shadow, 'legacy', BACKENDS)).toBe('legacy');
    expect(shadowTarget(plain, 'a', ['a', 'b', 'c'])).toBe('b');
    expect(shadowTarget(plain, 'b', ['a', 'b', 'c'])).toBe('a');
    expect(shadowTarget(plain, 'legacy', ['legacy', 'canary'])).toBe('canary');
    expect(shadowTarget(plain, 'legacy', ['legacy'])).toBeUndefined();
  });
});
