import { describe, expect, it } from 'vitest';
import { requestFacts } from '../../src/router/request-facts.js';
import { matchRoute } from '../../src/router/route-match.js';
import { parseRuleSet } from '../../src/rules/rule-set.js';

// A seeded generator, so a failure reproduces.
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

describe('route table index', () => {
  it('finds the same route as a linear first-match scan', () => {
    const r = rng(42);
    const seg = () => ['a', 'b', 'c', 'api', 'v1'][Math.floor(r() * 5)]!;
    const pattern = () => {
      const n = 1 + Math.floor(r() * 3);
      const parts = Array.from({ length: n }, () => (r() < 0.15 ? '*' : seg()));
      const tail = r() < 0.5 ? '/**' : '';
      return r() < 0.1 ? `~^/${seg()}` : '/' + parts.join('/') + tail;
    };
    const routes = Array.from({ length: 300 }, (_, i) => {
      const m: string[] = [];
      if (r() < 0.9) m.push(`path: "${pattern()}"`);
      if (r() < 0.2) m.push('methods: [POST]');
      if (r() < 0.2) m.push('headers: { x-t: "1" }');
      return `  - name: r${i}\n    match: { ${m.join(', ')} }\n    backend: pipeline`;
    });
    const rules = parseRuleSet(`default: legacy\nroutes:\n${routes.join('\n')}\n`, 'r', { backends: ['legacy', 'pipeline'] });
    for (let i = 0; i < 3000; i++) {
      const path = '/' + Array.from({ length: Math.floor(r() * 4) }, seg).join('/');
      const facts = requestFacts(r() < 0.5 ? 'GET' : 'POST', path, r() < 0.5 ? { 'x-t': '1' } : {});
      const linear = rules.routes.find((route) => matchRoute(route.match, facts));
      expect(rules.table.find(facts)?.name, `${facts.method} ${path}`).toBe(linear?.name);
    }
  });
});
