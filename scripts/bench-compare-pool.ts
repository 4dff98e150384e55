/**
 * `npm run bench:compare-pool`: main-thread CPU per shadow comparison, inline against the worker
 * pool, by body size (issue 14 item 3), to choose INLINE_MAX_BYTES in src/shadow/compare-pool.ts.
 * CPU time of the main thread (process.threadCpuUsage), so that it means something on a loaded
 * machine: it is what a comparison takes from the event loop. A script, not a test.
 */
import { compareResponses, type CapturedResponse } from '../dist/diff/compare.js';
import { compileShadow } from '../dist/rules/shadow-policy.js';
import { ComparePool } from '../dist/shadow/compare-pool.js';

const policy = compileShadow({ percent: 100, methods: ['GET'], max_body: 1 << 24, timeout: 1000, redact_json: [], compare: {} }).compare;

function body(bytes: number, seed: number): CapturedResponse {
  const items = [];
  for (let i = 0; JSON.stringify(items).length < bytes; i++) items.push({ id: i, name: `widget ${i}`, price: (999 + 100 * i + (i === 3 ? seed : 0)) / 100, tags: ['a', 'b'] });
  return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.concat([Buffer.from(JSON.stringify({ items }))]), truncated: false };
}

const threadCpu = () => {
  const u = process.threadCpuUsage();
  return u.user + u.system;
};

const pool = new ComparePool(1, 0);
console.log('body size | inline main-thread µs | pooled main-thread µs (in flight: 1)');
for (const size of [1024, 4096, 8192, 16384, 32768, 65536, 262144]) {
  const n = Math.max(20, Math.round(4_000_000 / size));
  const pairs = Array.from({ length: n }, () => [body(size, 0), body(size, 1)] as const);
  for (const [a, b] of pairs.slice(0, 10)) compareResponses(a, b, policy); // warm-up
  for (const [a, b] of pairs.slice(0, 10)) await pool.compare(a, b, policy);
  let t = threadCpu();
  for (const [a, b] of pairs) compareResponses(a, b, policy);
  const inline = (threadCpu() - t) / n;
  t = threadCpu();
  for (const [a, b] of pairs) await pool.compare(a, b, policy);
  const pooled = (threadCpu() - t) / n;
  console.log(`${String(size).padStart(9)} | ${inline.toFixed(1).padStart(21)} | ${pooled.toFixed(1).padStart(10)}`);
}
await pool.close();
