/**
 * The differential fuzz in CI (issue 11, item 4): a fixed budget of seeded requests sent to the
 * legacy layer (real nginx + Lua) and to the pipeline service on the same products file, every
 * difference either documented in docs/products.md ("Where implementations differ") or a
 * failure. `npm run fuzz:parity -- --seed N --count M` runs more (scripts/fuzz-parity.ts).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareObservations, type Observation } from '../../scripts/fuzz/compare.js';
import { FAMILIES } from '../../scripts/fuzz/families.js';
import { type Draft, fixedUnits, generate } from '../../scripts/fuzz/generate.js';
import { classify, DOCUMENTED } from '../../scripts/fuzz/known-differences.js';
import { formatFinding, formatSummary, runParity, type StartImplementation, undocumented } from '../../scripts/fuzz/parity.js';
import { LegacyLayer } from '../../src/legacy/legacy-layer.js';
import { createMetrics } from '../../src/metrics/catalogue.js';
import { PipelineServer } from '../../src/pipeline/pipeline-server.js';
import { loadProducts } from '../../src/products/products-config.js';
import { silentLogger, tempDir } from '../helpers/gateway.js';
import { freePort } from '../helpers/redis.js';

const SEED = 1;
const COUNT = 2000;
const products = loadProducts('test/fuzz/products.yaml');

const legacy: StartImplementation = async (origin) => {
  const port = await freePort();
  const layer = await LegacyLayer.start({ products, origin, listen: { host: '127.0.0.1', port }, prefix: tempDir('switchyard-fuzz-') }, resolve('.'));
  return { port, stop: () => layer.stop() };
};

const pipeline: StartImplementation = async (origin) => {
  const server = await PipelineServer.start({
    products,
    origin,
    listen: { host: '127.0.0.1', port: 0 },
    metrics: createMetrics({ processMetrics: false }),
    logger: silentLogger(),
  });
  return { port: server.port, stop: () => server.stop(1000) };
};

/** The first cells of docs/products.md's table "Where implementations differ". */
function documentedRows(): string[] {
  const doc = readFileSync('docs/products.md', 'utf8');
  const section = doc.slice(doc.indexOf('## Where implementations differ'));
  const table = section.slice(0, section.indexOf('\n## ') === -1 ? undefined : section.indexOf('\n## '));
  return table
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| scenario |'))
    .map((l) => l.split(' | ')[0]!.slice(2).trim());
}

describe('differential fuzz: legacy layer against pipeline service', () => {
  it('ties every documented classifier to a row of "Where implementations differ", and every row to a classifier', () => {
    const rows = documentedRows();
    expect(rows.length).toBeGreaterThan(3);
    expect(
      DOCUMENTED.map((c) => c.row).filter((r) => !rows.includes(r)),
      'classifiers naming no row',
    ).toEqual([]);
    expect(
      rows.filter((r) => !DOCUMENTED.some((c) => c.row === r)),
      'rows without a classifier',
    ).toEqual([]);
  });

  it('draws the same bytes from the same seed, and every family in a CI run', () => {
    const a = generate(SEED, COUNT);
    const b = generate(SEED, COUNT);
    expect(a.flatMap((u) => u.requests.map((r) => r.raw.toString('latin1')))).toEqual(b.flatMap((u) => u.requests.map((r) => r.raw.toString('latin1'))));
    expect(a.reduce((n, u) => n + u.requests.length, 0)).toBe(COUNT);
    expect(new Set(a.map((u) => u.family))).toEqual(new Set(FAMILIES.map((f) => f.name)));
    expect(generate(SEED + 1, 50)[0]!.requests[0]!.raw).not.toEqual(a[0]!.requests[0]!.raw);
  });

  it('reports a difference no row explains as undocumented', () => {
    const [unit] = fixedUnits([{ method: 'GET', target: '/api/items/1', headers: [['Host', 'shop.example']], note: 'synthetic' }]);
    const request = unit!.requests[0]!;
    const answer = (status: number, body: string): Observation => ({
      answer: { status, headers: [['content-type', 'application/json']], body: Buffer.from(body), framing: 'length', rest: '', end: 'closed', complete: true },
      received: [],
      anonymous: 0,
    });
    expect(compareObservations(answer(200, '{"a":1,"b":2}'), answer(200, '{"b":2,"a":1}'))).toEqual([]);
    const diffs = compareObservations(answer(200, '{"ok":true}'), answer(404, '{"ok":true}'));
    expect(diffs).toEqual([{ field: 'status', legacy: '200', pipeline: '404' }]);
    expect(classify(request, answer(200, '{"ok":true}'), answer(404, '{"ok":true}'), diffs)).toBeUndefined();
  });

  it(`${COUNT} requests of seed ${SEED}: every difference is documented`, async () => {
    const statuses = new Set<number>();
    const report = await runParity({
      seed: SEED,
      count: COUNT,
      legacy,
      pipeline,
      onExchange: (_req, l, p) => l.answer.status === p.answer.status && statuses.add(l.answer.status),
    });
    expect(undocumented(report).map(formatFinding), formatSummary(report)).toEqual([]);
    expect(report.sent).toBe(COUNT);
    // Every product answered some requests, the same way on both sides: CORS preflights (204),
    // redirects, the WAF (403), the method check (405), rate limits (429, and 400 without a key).
    expect([...statuses], formatSummary(report)).toEqual(expect.arrayContaining([200, 204, 301, 302, 307, 308, 400, 403, 404, 405, 429]));
    // A run where little reaches the origins would compare little but refusals.
    expect(report.forwardedByBoth, formatSummary(report)).toBeGreaterThan(COUNT / 3);
    expect(report.agreed, formatSummary(report)).toBeGreaterThan(COUNT / 2);
  }, 600_000);

  // Differences the fuzz found and that were fixed: both implementations now answer the same status.
  const found: [Draft, number][] = [
    // The pipeline resolved dot segments of an absolute-form target before the WAF saw them.
    [{ method: 'GET', target: 'http://shop.example/static/../etc/passwd', headers: [['Host', 'shop.example']], note: 'absolute-form dot segments' }, 403],
    [{ method: 'GET', target: 'http://shop.example/%2e%2e/x', headers: [['Host', 'shop.example']], note: 'absolute-form above the root' }, 400],
    [{ method: 'GET', target: 'http://user:pw@shop.example/api/items/1', headers: [['Host', 'shop.example']], note: 'absolute-form userinfo' }, 400],
    [{ method: 'GET', target: 'HTTP://shop.example/find?q=1', headers: [['Host', 'shop.example']], note: 'absolute-form scheme case' }, 308],
    [{ method: 'GET', target: 'http://shop.example/x', headers: [], note: 'absolute-form without Host' }, 400],
    // Repeated slashes count as one before dot segments climb.
    [{ method: 'GET', target: '//..', headers: [['Host', 'shop.example']], note: 'merged slashes' }, 400],
    [{ method: 'GET', target: '/a//../..', headers: [['Host', 'shop.example']], note: 'merged slashes' }, 400],
    [{ method: 'OPTIONS', target: '*', headers: [['Host', 'shop.example']], note: 'OPTIONS *' }, 400],
    // nginx keeps a leading tab in a header value.
    [
      {
        method: 'GET',
        target: '/api/items/1',
        headers: [
          ['Host', 'shop.example'],
          ['User-Agent', '\tsqlmap'],
        ],
        note: 'tab before a value',
      },
      403,
    ],
    [
      {
        method: 'GET',
        target: '/api/items/1',
        headers: [
          ['Host', 'shop.example'],
          ['X-Attack', '\t'],
        ],
        note: 'tab as a value',
      },
      200,
    ],
    // Node keeps the first User-Agent and Referer only, and folds Cookie lines.
    [
      {
        method: 'GET',
        target: '/api/items/1',
        headers: [
          ['Host', 'shop.example'],
          ['User-Agent', 'a'],
          ['User-Agent', 'b'],
          ['Referer', 'r1'],
          ['Referer', 'r2'],
          ['Cookie', 'a=1'],
          ['Cookie', 'b=2'],
        ],
        note: 'repeated lines',
      },
      200,
    ],
    [
      {
        method: 'GET',
        target: '/api/items/1',
        headers: [
          ['Host', 'shop.example'],
          ['Origin', 'https://shop.example'],
          ['Origin', 'https://evil.example'],
        ],
        note: 'two Origin lines',
      },
      200,
    ],
    // X-Forwarded-For read as nginx's realip reads it.
    ...['010.000.000.001', '203.0.113.9:80', '[2001:db8::1]:80', '2001:DB8::1', '203.0.113.9, , 10.0.0.1', ''].map((xff): [Draft, number] => [
      {
        method: 'GET',
        target: '/api/items/1',
        headers: [
          ['Host', 'shop.example'],
          ['X-Forwarded-For', xff],
        ],
        ownKeys: true,
        note: `xff ${xff}`,
      },
      200,
    ]),
    [
      {
        method: 'GET',
        target: '/api/items/1',
        headers: [
          ['Host', 'shop.example'],
          ['X-Forwarded-For', '10.0.0.1, 10.0.0.2'],
          ['X-Forwarded-For', ''],
        ],
        ownKeys: true,
        note: 'xff empty line',
      },
      200,
    ],
    [
      {
        method: 'POST',
        target: '/api/echo',
        headers: [
          ['Host', 'shop.example'],
          ['Expect', 'something'],
        ],
        body: 'hello',
        note: 'unknown expectation',
      },
      200,
    ],
    [
      {
        method: 'POST',
        target: '/api/echo',
        headers: [
          ['Host', 'shop.example'],
          ['Trailer', 'X-Sum'],
        ],
        body: 'hello',
        framing: 'chunked',
        note: 'Trailer',
      },
      200,
    ],
  ];

  it('keeps the differences it found fixed', async () => {
    const statuses: [string, [number, number]][] = [];
    const report = await runParity({
      seed: 0,
      count: 0,
      units: fixedUnits(found.map(([d]) => d)),
      legacy,
      pipeline,
      onExchange: (req, l, p) => statuses.push([req.note, [l.answer.status, p.answer.status]]),
    });
    // The 400s still differ in their bodies, as documented (nginx's page against the JSON).
    expect(undocumented(report).map(formatFinding)).toEqual([]);
    expect(statuses).toEqual(found.map(([d, status]) => [d.note, [status, status]]));
  }, 120_000);
});
