import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, adminAuth, startGateway, type TestGateway } from '../helpers/gateway.js';
import { metric, metricValue, scrape } from '../helpers/metrics.js';
import { runCli } from '../helpers/process.js';
import { json, send, startServer, type TestServer } from '../helpers/servers.js';

interface Seen {
  backend: string;
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const seen: Seen[] = [];
const arrivals = new EventEmitter();

/** Resolves once the pipeline has received the copy of a request for `url`. */
function copyArrived(url: string): Promise<void> {
  const arrived = () => seen.some((s) => s.url === url && s.backend === 'pipeline');
  return new Promise((resolve) => {
    if (arrived()) return resolve();
    const check = () => arrived() && (arrivals.off('seen', check), resolve());
    arrivals.on('seen', check);
  });
}

function backend(name: 'legacy' | 'pipeline') {
  return startServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ backend: name, method: req.method!, url: req.url!, headers: req.headers, body });
      arrivals.emit('seen');
      const reply = (value: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(200, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(value));
      };
      const p = name === 'pipeline';
      switch (req.url!.split('?')[0]) {
        case '/same':
          return reply({ id: 1, items: [1, 2, 3] });
        case '/changed':
          return reply({ id: 1, price: p ? 10.99 : 9.99, name: 'widget' });
        case '/ignored':
          return reply({ id: 1, meta: { generated_at: Date.now() + Math.random() } }, { 'x-build': p ? 'b2' : 'b1' });
        case '/reorder':
          return reply({ items: p ? [{ id: 3 }, { id: 1 }, { id: 2 }] : [{ id: 1 }, { id: 2 }, { id: 3 }] });
        case '/gzip': {
          const body = Buffer.from(JSON.stringify({ id: 7, text: 'hello '.repeat(50) }));
          res.writeHead(200, p ? { 'content-type': 'application/json', 'content-encoding': 'gzip' } : { 'content-type': 'application/json' });
          return res.end(p ? gzipSync(body) : body);
        }
        case '/slow-primary':
          // The primary answers only once its copy has arrived: were the copy sent after the
          // primary's answer, neither would ever come (and the test would fail on a 504).
          return p ? reply({ ok: true }) : void copyArrived('/slow-primary').then(() => reply({ ok: true }));
        case '/slow-shadow':
          // The copy is never answered: the route's 300 ms shadow timeout (the subject) ends it.
          return p ? undefined : reply({ ok: true, from: 'legacy' });
        case '/post':
        case '/post-optin':
          return reply({ got: body });
        case '/random':
          return reply({ id: 1, nonce: Math.random(), stable: 'x' });
        case '/big-id':
          // JSON.stringify cannot write these: both are 12345678901234567000 as doubles.
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end(`{"id":${p ? '12345678901234567891' : '12345678901234567890'},"name":"w"}`);
        case '/secret':
          return reply({ user: { name: 'ann', token: p ? 'pipeline-secret' : 'legacy-secret' } });
        default:
          return reply({ path: req.url });
      }
    });
  });
}

const RULES = `default: legacy
routes:
  - name: same
    match: { path: "/same" }
    backend: legacy
    shadow: { percent: 100 }
  - name: changed
    match: { path: "/changed" }
    backend: legacy
    shadow: { percent: 100 }
  - name: ignored
    match: { path: "/ignored" }
    backend: legacy
    shadow:
      compare: { headers: [content-type, x-build], ignore_headers: [x-build], ignore_json: ["/meta/generated_at"] }
  - name: reorder
    match: { path: "/reorder" }
    backend: legacy
    shadow: { compare: { unordered_json: ["/items"] } }
  - name: gzip
    match: { path: "/gzip" }
    backend: legacy
    shadow: {}
  - name: slow-primary
    match: { path: "/slow-primary" }
    backend: legacy
    shadow: {}
  - name: slow-shadow
    match: { path: "/slow-shadow" }
    backend: legacy
    shadow: { timeout: 300ms }
  - name: post
    match: { path: "/post" }
    backend: legacy
    shadow: {}
  - name: post-optin
    match: { path: "/post-optin" }
    backend: legacy
    shadow: { methods: [POST] }
  - name: random
    match: { path: "/random" }
    backend: legacy
    shadow: { learn_noise_percent: 100 }
  - name: big-id
    match: { path: "/big-id" }
    backend: legacy
    shadow: {}
  - name: secret
    match: { path: "/secret" }
    backend: legacy
    shadow: { redact_json: ["/user/token"] }
  - name: to-legacy
    match: { path: "/served-by-pipeline" }
    backend: pipeline
    shadow: {}
  - name: half
    match: { path: "/half" }
    backend: legacy
    sticky: "header:x-user-id"
    shadow: { percent: 50 }
`;

describe('shadow traffic and diffing', () => {
  let legacy: TestServer;
  let pipeline: TestServer;
  let g: TestGateway;

  beforeAll(async () => {
    legacy = await backend('legacy');
    pipeline = await backend('pipeline');
    // A long response timeout: /slow-primary waits on an event, and must not race a clock.
    g = await startGateway({
      backends: { legacy: legacy.url, pipeline: pipeline.url },
      rules: RULES,
      extra: 'shadow:\n  samples: { file: samples.jsonl }',
      responseTimeout: '30s',
    });
  });
  afterAll(async () => {
    await g.stop();
    await legacy.close();
    await pipeline.close();
  });

  type RouteReport = {
    route: string;
    comparisons: number;
    results: Record<string, number>;
    top_fields: { field: string; count: number; sample: { values: Record<string, unknown> } }[];
    noise_fields: string[];
    skipped_reasons: Record<string, number>;
  };
  const reportOf = async (route: string) => json<{ routes: RouteReport[] }>(await send(`${g.admin}/diffs?route=${route}`, { headers: adminAuth })).routes[0];
  const settled = (route: string, n = 1) =>
    expect
      .poll(async () => {
        const r = await reportOf(route);
        return r ? Object.values(r.results).reduce((a, b) => a + b, 0) : 0;
      })
      .toBeGreaterThanOrEqual(n);

  /** The first stored mismatch sample of a route, once the sink has written it. */
  const samplesText = () => (existsSync(join(g.dir, 'samples.jsonl')) ? readFileSync(join(g.dir, 'samples.jsonl'), 'utf8') : '');
  const sampleOf = async (route: string) => {
    await expect.poll(samplesText).toContain(`"route":"${route}"`);
    return samplesText()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((s) => s.route === route);
  };

  it('finds identical answers a match, and sends the copy with the same request id', async () => {
    const r = await send(g.url + '/same', { headers: { 'x-request-id': 'req-same-1' } });
    expect(r.status).toBe(200);
    await settled('same');
    expect((await reportOf('same'))!.results.match).toBe(1);
    const copies = seen.filter((s) => s.url === '/same');
    expect(copies.map((s) => s.backend).sort()).toEqual(['legacy', 'pipeline']);
    expect(copies.every((s) => s.headers['x-request-id'] === 'req-same-1')).toBe(true);
    expect(copies.find((s) => s.backend === 'pipeline')!.headers['x-switchyard-shadow']).toBe('1');
    expect(copies.find((s) => s.backend === 'legacy')!.headers['x-switchyard-shadow']).toBeUndefined();
  });

  it('reports a mismatch naming the JSON Pointer, with both values side by side', async () => {
    const counters = async () => {
      const text = await scrape(g.admin);
      return [
        metricValue(text, 'switchyard_shadow_diff_fields_total', { route: 'changed', field: '/price' }),
        metricValue(text, 'switchyard_shadow_comparisons_total', { route: 'changed', result: 'mismatch' }),
        metricValue(text, 'switchyard_shadow_requests_total', { route: 'changed', target: 'pipeline', outcome: 'sent' }),
        // A pair of small bodies is compared on the event loop, and timed.
        metricValue(text, 'switchyard_shadow_compare_seconds_count', { where: 'inline' }),
      ];
    };
    const before = await counters();
    await send(g.url + '/changed');
    await settled('changed');
    const rep = (await reportOf('changed'))!;
    expect(rep.results.mismatch).toBe(1);
    expect(rep.top_fields).toEqual([
      expect.objectContaining({ field: '/price', count: 1, sample: expect.objectContaining({ values: { legacy: 9.99, pipeline: 10.99 } }) }),
    ]);
    await expect.poll(counters).toEqual(before.map((n) => n + 1));
  });

  it('matches when the only differences are ignored paths and headers', async () => {
    await send(g.url + '/ignored');
    await settled('ignored');
    expect((await reportOf('ignored'))!.results).toMatchObject({ match: 1, mismatch: 0 });
  });

  it('matches reordered arrays under unordered_json', async () => {
    await send(g.url + '/reorder');
    await settled('reorder');
    expect((await reportOf('reorder'))!.results.match).toBe(1);
  });

  it('matches when only one side is gzipped', async () => {
    await send(g.url + '/gzip');
    await settled('gzip');
    expect((await reportOf('gzip'))!.results.match).toBe(1);
  });

  it('sends the copy while the primary request is in flight, not after its answer', async () => {
    // The serving backend holds its answer until the copy has arrived (see the backend above).
    const r = await send(g.url + '/slow-primary');
    expect(r.status).toBe(200);
    expect(json(r)).toEqual({ ok: true });
    expect(
      seen
        .filter((s) => s.url === '/slow-primary')
        .map((s) => s.backend)
        .sort(),
    ).toEqual(['legacy', 'pipeline']);
  });

  it('counts a shadow timeout and answers the client with the primary', async () => {
    const timeouts = () => metric(g.admin, 'switchyard_shadow_requests_total', { route: 'slow-shadow', target: 'pipeline', outcome: 'timeout' });
    const before = await timeouts();
    const r = await send(g.url + '/slow-shadow');
    expect(r.status).toBe(200);
    expect(json(r)).toEqual({ ok: true, from: 'legacy' });
    await settled('slow-shadow');
    expect((await reportOf('slow-shadow'))!.results.shadow_timeout).toBe(1);
    await expect.poll(timeouts).toBe(before + 1);
  });

  it('does not shadow a POST unless the route opts in, and replays its body when it does', async () => {
    const a = await send(g.url + '/post', { method: 'POST', body: 'payload-1', headers: { 'content-type': 'text/plain' } });
    expect(json(a)).toEqual({ got: 'payload-1' });
    await settled('post');
    expect((await reportOf('post'))!.skipped_reasons).toEqual({ method: 1 });
    expect(seen.filter((s) => s.url === '/post').map((s) => s.backend)).toEqual(['legacy']);

    const b = await send(g.url + '/post-optin', { method: 'POST', body: 'payload-2', headers: { 'content-type': 'text/plain' } });
    expect(json(b)).toEqual({ got: 'payload-2' });
    await settled('post-optin');
    expect((await reportOf('post-optin'))!.results.match).toBe(1);
    expect(
      seen
        .filter((s) => s.url === '/post-optin')
        .map((s) => [s.backend, s.body])
        .sort(),
    ).toEqual([
      ['legacy', 'payload-2'],
      ['pipeline', 'payload-2'],
    ]);
  });

  it('learns a per-call random field as noise and keeps it out of the mismatches', async () => {
    for (let i = 0; i < 3; i++) await send(g.url + '/random');
    await settled('random', 3);
    const rep = (await reportOf('random'))!;
    expect(rep.noise_fields).toEqual(['/nonce']);
    expect(rep.results.mismatch).toBe(0);
    expect(rep.results.noise).toBe(3);
    // The serving backend got the request twice per call: once for the client, once to learn noise.
    expect(seen.filter((s) => s.url === '/random' && s.backend === 'legacy')).toHaveLength(6);
  });

  it('shadows to legacy when the pipeline served', async () => {
    await send(g.url + '/served-by-pipeline');
    await settled('to-legacy');
    expect(
      seen
        .filter((s) => s.url === '/served-by-pipeline')
        .map((s) => s.backend)
        .sort(),
    ).toEqual(['legacy', 'pipeline']);
  });

  it('keeps the same sticky keys sampled', async () => {
    const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
    // Pinned: the users whose bucket under the salt "half:shadow" is below 5000 (50 %), as
    // docs/rules.md's test vectors define it; computed once, not by the code under test.
    const SAMPLED = ['u0', 'u10', 'u11', 'u14', 'u15', 'u16', 'u18', 'u19', 'u21', 'u23', 'u24', 'u25', 'u28', 'u29', 'u3', 'u30', 'u33', 'u35', 'u37', 'u8'];
    const comparisons = async () => (await reportOf('half'))?.comparisons ?? 0;
    const sampledUsers = async () => {
      const before = seen.length;
      const compared = await comparisons();
      for (const u of users) await send(g.url + '/half', { headers: { 'x-user-id': u } });
      // Every primary has been answered, so every copy has been decided and started; once the
      // comparisons are in, no copy is still on its way.
      await expect.poll(comparisons).toBe(compared + SAMPLED.length);
      return seen
        .slice(before)
        .filter((s) => s.backend === 'pipeline')
        .map((s) => s.headers['x-user-id'])
        .sort();
    };
    expect(await sampledUsers()).toEqual(SAMPLED);
    expect(await sampledUsers()).toEqual(SAMPLED);
  });

  it('tells apart integers past 2^53, in the report and in the stored sample', async () => {
    await send(g.url + '/big-id');
    await settled('big-id');
    const rep = (await reportOf('big-id'))!;
    expect(rep.results.mismatch).toBe(1);
    expect(rep.top_fields).toEqual([
      expect.objectContaining({
        field: '/id',
        sample: expect.objectContaining({ values: { legacy: '12345678901234567890', pipeline: '12345678901234567891' } }),
      }),
    ]);
    const sample = await sampleOf('big-id');
    expect([sample.legacy.body, sample.pipeline.body]).toEqual([
      { id: '12345678901234567890', name: 'w' },
      { id: '12345678901234567891', name: 'w' },
    ]);
  });

  it('redacts secrets in stored samples', async () => {
    await send(g.url + '/secret', { headers: { authorization: 'Bearer hunter2', cookie: 'session=abc' } });
    await settled('secret');
    const rep = (await reportOf('secret'))!;
    expect(rep.top_fields[0]).toMatchObject({ field: '/user/token', sample: { values: { legacy: '[redacted]', pipeline: '[redacted]' } } });
    const sample = await sampleOf('secret');
    const text = readFileSync(join(g.dir, 'samples.jsonl'), 'utf8');
    expect(text).not.toMatch(/hunter2|session=abc|legacy-secret|pipeline-secret/);
    expect(sample.request_headers).toMatchObject({ authorization: '[redacted]', cookie: '[redacted]' });
    expect(sample.legacy.body).toEqual({ user: { name: 'ann', token: '[redacted]' } });
    expect(sample.pipeline.status).toBe(200);
  });
});

describe('shadow isolation', () => {
  let primary: TestServer;
  let stuck: TestServer;
  let stuckGot = 0;
  let g: TestGateway;

  beforeAll(async () => {
    primary = await startServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    stuck = await startServer((req) => {
      req.resume(); // accepts, never answers
      stuckGot++;
    });
    g = await startGateway({
      backends: { legacy: primary.url, pipeline: stuck.url },
      // The copies must stay in flight for the whole test: a long shadow timeout, as a cap.
      rules: 'default: legacy\nroutes:\n  - { name: all, match: { path: "/**" }, backend: legacy, shadow: { timeout: 10m } }\n',
      extra: 'shadow:\n  max_concurrent: 4\n  max_concurrent_per_route: 2\n  queue: 3\n  samples: { file: samples.jsonl }',
    });
  });
  afterAll(async () => {
    await g.stop();
    await primary.close();
    await stuck.close();
  });

  it('drops copies once concurrency and queue are full, and never makes the primary wait', async () => {
    const dropped = () => metric(g.admin, 'switchyard_shadow_requests_total', { route: 'all', target: 'pipeline', outcome: 'dropped' });
    const before = await dropped();
    for (let i = 0; i < 20; i++) expect((await send(g.url + `/x${i}`)).status).toBe(200);
    // Every primary was answered while the first two copies sat at a target that answers
    // nothing: no primary waited for its copy.
    expect(await metric(g.admin, 'switchyard_shadow_in_flight')).toBe(2);
    await expect.poll(() => stuckGot).toBe(2);
    // 2 running (per-route limit) + 3 queued; the other 15 dropped.
    expect(await dropped()).toBe(before + 15);
    const rep = json<{ routes: { dropped: number }[] }>(await send(g.admin + '/diffs?route=all', { headers: adminAuth })).routes[0]!;
    expect(rep.dropped).toBe(15);
  });
});

describe('switchyard diffs', () => {
  it('prints the report of a running gateway', async () => {
    const legacy = await startServer((req, res) => (req.resume(), res.writeHead(200, { 'content-type': 'application/json' }), res.end('{"a":1,"b":2}')));
    const pipeline = await startServer((req, res) => (req.resume(), res.writeHead(200, { 'content-type': 'application/json' }), res.end('{"a":1,"b":3}')));
    const g = await startGateway({
      backends: { legacy: legacy.url, pipeline: pipeline.url },
      rules: 'default: legacy\nroutes:\n  - { name: api, match: { path: "/api/**" }, backend: legacy, shadow: {} }\n',
      extra: 'shadow:\n  samples: { file: samples.jsonl }',
    });
    try {
      await send(g.url + '/api/x');
      await expect.poll(async () => json<{ routes: unknown[] }>(await send(g.admin + '/diffs', { headers: adminAuth })).routes.length).toBe(1);
      const text = await runCli(['diffs', '--admin', g.admin, '--token', ADMIN_TOKEN]);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/^route api: 1 comparisons, match rate 0\.0%, shadow errors 0\.0%, timeouts 0\.0%\n {2}\(match 0, mismatch 1,/m);
      expect(text.stdout).toMatch(/^\s+1 {2}\/b {4}e\.g\. GET \/api\/x: legacy=2 {2}pipeline=3$/m);
      const j = JSON.parse((await runCli(['diffs', '--admin', g.admin, '--json', '--route', 'api'], { SWITCHYARD_ADMIN_TOKEN: ADMIN_TOKEN })).stdout);
      expect(j.routes[0]).toMatchObject({ route: 'api', comparisons: 1, match_rate: 0 });
    } finally {
      await g.stop();
      await legacy.close();
      await pipeline.close();
    }
  });
});
