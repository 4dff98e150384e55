/**
 * `npm run bench:match`: ns per routing decision with 1, 100 and 10,000 routes (issue: matching
 * stays fast with many routes). Micro-benchmark, not a test: it prints, it asserts nothing.
 * Requests hit the first route, the last route, and no route, so both ends of the order show.
 */

import { decide } from '../dist/router/decide.js';
import { requestFacts } from '../dist/router/request-facts.js';
import { parseRuleSet } from '../dist/rules/rule-set.js';

const backends = ['legacy', 'pipeline'];

function rules(n: number) {
  const routes = Array.from({ length: n }, (_, i) =>
    i % 10 === 9
      ? `  - { name: h${i}, match: { host: "*.t${i}.example", path: "/svc${i}/*/items/**", methods: [GET] }, split: { legacy: 50, pipeline: 50 }, sticky: "header:x-user-id" }`
      : `  - { name: r${i}, match: { path: "/svc${i}/**" }, split: { legacy: 70, pipeline: 30 }, sticky: "header:x-user-id" }`,
  );
  return parseRuleSet(`default: legacy\nroutes:\n${routes.join('\n')}\n`, 'bench', { backends });
}

function measure(label: string, fn: () => unknown, iterations = 500_000): number {
  for (let i = 0; i < 50_000; i++) fn(); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  process.stdout.write(`${label.padEnd(44)} ${ns.toFixed(0).padStart(6)} ns/match\n`);
  return ns;
}

const opts = { backends: new Set(backends) };
const headers = { host: 'shop.example', 'x-user-id': 'user-12345' };
for (const n of [1, 100, 10_000]) {
  const rs = rules(n);
  const last = n - 1;
  const lastPath = last % 10 === 9 ? `/svc${last}/x/items/1` : `/svc${last}/items/1`;
  const lastHeaders = last % 10 === 9 ? { ...headers, host: `a.t${last}.example` } : headers;
  measure(`${n} routes, first route`, () => decide(rs, requestFacts('GET', '/svc0/items/1?page=2', headers), opts));
  measure(`${n} routes, last route`, () => decide(rs, requestFacts('GET', lastPath, lastHeaders), opts));
  measure(`${n} routes, no route (default)`, () => decide(rs, requestFacts('GET', '/elsewhere/items/1', headers), opts));
  const table = rs.table;
  const facts = requestFacts('GET', lastPath, lastHeaders);
  measure(`${n} routes, table lookup only (last route)`, () => table.find(facts));
}
