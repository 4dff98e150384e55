/**
 * Resilience with real servers (issue 13): several hosts per backend, outlier ejection, active
 * health checks, retries on another host, a route's fallback with its budget, and /readyz.
 * Load runs as a bounded loop (helpers/load.ts); everything waits on counters and metrics.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { KillableServer } from '../helpers/killable.js';
import { startLoad } from '../helpers/load.js';
import { scrape } from '../helpers/metric-value.js';
import { json, send, startServer, type TestServer, waitFor } from '../helpers/servers.js';

const POLL = { timeout: 15_000, interval: 50 };

describe('a host killed under load', () => {
  const hosts: KillableServer[] = [];
  let g: TestGateway;

  beforeAll(async () => {
    for (const n of ['a', 'b', 'c']) hosts.push(await KillableServer.start(`legacy-${n}`));
    g = await startGateway({
      backends: {
        legacy: `{ urls: [${hosts.map((h) => `"${h.url}"`).join(', ')}], connect_timeout: 1s, response_timeout: 2s,
          outlier: { consecutive_failures: 3, ejection_time: 60s },
          retries: { attempts: 2, on: [refused, connect_timeout, reset] } }`,
      },
      rules: 'default: legacy\n',
    });
  });
  afterAll(async () => {
    await g.stop();
    await Promise.all(hosts.map((h) => h.close()));
  });

  it('spreads requests over every host', async () => {
    for (let i = 0; i < 30; i++) expect((await send(g.url + `/spread/${i}`)).status).toBe(200);
    for (const h of hosts) expect(h.hits).toBeGreaterThan(0);
  });

  it('retries the requests that hit it on another host, ejects it, and no request fails', async () => {
    const load = startLoad(g.url + '/load', 4);
    await waitFor(() => load.result.ok >= 100, 15_000, 'load before the kill');
    const victim = hosts[1]!;
    await victim.kill();
    await expect.poll(() => scrape(g.admin, 'switchyard_outlier_ejections_total', { backend: 'legacy' }), POLL).toBe(1);
    const retriedAtEjection = await scrape(g.admin, 'switchyard_upstream_retries_total', { backend: 'legacy' });
    const okAtEjection = load.result.ok;
    await waitFor(() => load.result.ok >= okAtEjection + 300, 20_000, 'load after the ejection');
    const result = await load.stop();

    expect(result.failed).toEqual([]);
    // Before the ejection, the requests that hit the dead host were retried (at least the
    // consecutive failures that ejected it); after it, the dead host gets no traffic at all.
    expect(retriedAtEjection).toBeGreaterThanOrEqual(3);
    expect(await scrape(g.admin, 'switchyard_upstream_retries_total', { backend: 'legacy' })).toBe(retriedAtEjection);
    expect(await scrape(g.admin, 'switchyard_backend_host_healthy', { backend: 'legacy', host: victim.url })).toBe(0);
    expect(await scrape(g.admin, 'switchyard_backend_host_healthy', { backend: 'legacy', host: hosts[0]!.url })).toBe(1);
    const ready = await send(g.admin + '/readyz');
    expect(ready.status).toBe(200);
    expect(json(ready)).toMatchObject({ ready: true, backends: { legacy: { state: 'degraded' } } });
  });
});

describe('the pipeline killed during a 50% split with a fallback', () => {
  let legacy: KillableServer;
  let pipeline: KillableServer;
  let g: TestGateway;

  beforeAll(async () => {
    legacy = await KillableServer.start('legacy');
    pipeline = await KillableServer.start('pipeline');
    g = await startGateway({
      backends: {
        legacy: legacy.url,
        pipeline: `{ url: "${pipeline.url}", connect_timeout: 1s, response_timeout: 2s,
          health: { path: /health, interval: 200ms, timeout: 200ms, healthy_threshold: 3, unhealthy_threshold: 2 },
          outlier: { consecutive_failures: 2, ejection_time: 60s } }`,
      },
      rules: `default: legacy
routes:
  - name: ramp
    match: { path: "/ramp/**" }
    split: { legacy: 50, pipeline: 50 }
    fallback: { to: legacy, budget: 100% }
`,
    });
  });
  afterAll(async () => {
    await g.stop();
    await Promise.all([legacy.close(), pipeline.close()]);
  });

  const readyz = async () => json<{ ready: boolean; backends: Record<string, { state: string }>; on_fallback: unknown[] }>(await send(g.admin + '/readyz'));

  it('fails no GET, counts the fallbacks, shows the pipeline down on /readyz, and takes it back after the healthy threshold', async () => {
    const load = startLoad(g.url + '/ramp/item', 4);
    await waitFor(() => (load.result.backends.get('pipeline') ?? 0) >= 50 && (load.result.backends.get('legacy') ?? 0) >= 50, 15_000, 'both backends serving');
    await pipeline.kill();
    await expect.poll(async () => (await readyz()).backends.pipeline?.state, POLL).toBe('down');
    const ready = await send(g.admin + '/readyz');
    expect(ready.status).toBe(200);
    expect(json(ready)).toMatchObject({ ready: true, on_fallback: [{ route: 'ramp', backend: 'pipeline', fallback: 'legacy' }] });
    const okAtDown = load.result.ok;
    await waitFor(() => load.result.ok >= okAtDown + 200, 20_000, 'load while the pipeline is down');
    expect(load.result.failed).toEqual([]);
    const fallbacks = await scrape(g.admin, 'switchyard_fallbacks_total', { route: 'ramp', from: 'pipeline', to: 'legacy' });
    expect(fallbacks).toBeGreaterThan(0);
    // Once down, requests go to the fallback directly, without a failed attempt first.
    expect(await scrape(g.admin, 'switchyard_fallbacks_total', { route: 'ramp', reason: 'down' })).toBeGreaterThan(0);

    const pipelineBefore = pipeline.hits;
    await pipeline.revive();
    await expect.poll(() => scrape(g.admin, 'switchyard_backend_host_healthy', { backend: 'pipeline', host: pipeline.url }), POLL).toBe(1);
    await waitFor(() => pipeline.hits >= pipelineBefore + 30, 20_000, 'traffic back on the pipeline');
    const result = await load.stop();
    expect(result.failed).toEqual([]);
    expect((await readyz()).backends.pipeline?.state).toBe('up');
  });
});

describe('fallback rules', () => {
  let legacy: KillableServer;
  let g: TestGateway;
  const lines: Record<string, unknown>[] = [];
  // A port nothing listens on: every connection is refused. Outlier ejection is off so that the
  // backend is never "down" and every request makes a failed attempt first.
  const dead = '{ url: "http://127.0.0.1:9", outlier: { consecutive_failures: 0 } }';

  let broken: TestServer;

  beforeAll(async () => {
    legacy = await KillableServer.start('legacy');
    broken = await startServer((req, res) => {
      req.resume();
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('maintenance');
    });
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        cb();
      },
    });
    g = await startGateway({
      backends: { legacy: legacy.url, dead, dead2: dead, broken: `{ url: "${broken.url}", outlier: { consecutive_failures: 0 } }` },
      rules: `default: legacy
routes:
  - { name: safe, match: { path: "/safe/**" }, backend: dead, fallback: { to: legacy, budget: 100% } }
  - { name: posts, match: { path: "/posts/**" }, backend: dead, fallback: { to: legacy, methods: [GET, POST], budget: 100% } }
  - { name: capped, match: { path: "/capped/**" }, backend: dead2, fallback: { to: legacy, budget: 20%, budget_min: 0 } }
  - { name: shadowed, match: { path: "/shadowed/**" }, backend: legacy, shadow: { to: dead } }
  - { name: broken, match: { path: "/broken/**" }, backend: broken, fallback: { to: legacy } }
  - { name: broken-strict, match: { path: "/strict/**" }, backend: broken, fallback: { to: legacy, on: [refused] } }
`,
      extra: 'shadow:\n  samples: { file: samples.jsonl }',
      options: { logger: createLogger('info', sink) },
    });
  });
  afterAll(async () => {
    await g.stop();
    await legacy.close();
    await broken.close();
  });

  it('sends a GET that failed to the fallback once, says why, and logs it', async () => {
    const r = await send(g.url + '/safe/a', { headers: { 'x-request-id': 'fb-1' } });
    expect(r.status).toBe(200);
    expect(json(r)).toMatchObject({ backend: 'legacy', url: '/safe/a' });
    expect(r.headers['x-switchyard-fallback']).toBe('refused');
    expect(r.headers['x-switchyard-backend']).toBe('legacy');
    await expect
      .poll(() => lines.find((l) => l.kind === 'access' && l.request_id === 'fb-1'))
      .toMatchObject({
        route: 'safe',
        backend: 'legacy',
        fallback: 'refused',
        fallback_from: 'dead',
        status: 200,
      });
    expect(await scrape(g.admin, 'switchyard_fallbacks_total', { route: 'safe', from: 'dead', to: 'legacy', reason: 'refused' })).toBe(1);
    expect(await scrape(g.admin, 'switchyard_upstream_errors_total', { backend: 'dead', reason: 'refused' })).toBe(1);
  });

  it("replaces a 5xx answer by the fallback's when the route takes 5xx, and passes it on otherwise", async () => {
    const r = await send(g.url + '/broken/x');
    expect(r.status).toBe(200);
    expect(json(r)).toMatchObject({ backend: 'legacy', url: '/broken/x' });
    expect(r.headers['x-switchyard-fallback']).toBe('5xx');
    const strict = await send(g.url + '/strict/x');
    expect(strict.status).toBe(503);
    expect(strict.body).toBe('maintenance');
    expect(await scrape(g.admin, 'switchyard_fallbacks_total', { route: 'broken', from: 'broken', reason: '5xx' })).toBe(1);
    expect(await scrape(g.admin, 'switchyard_fallbacks_total', { route: 'broken-strict' })).toBe(0);
  });

  it('never replays a POST unless the route lists it; a listed one is replayed with its whole body', async () => {
    const before = legacy.served.length;
    const refused = await send(g.url + '/safe/order', { method: 'POST', body: 'buy=1', headers: { 'content-type': 'text/plain' } });
    expect(refused.status).toBe(502);
    expect(json(refused)).toMatchObject({ code: 'SWY_ERR_UPSTREAM_REFUSED', backend: 'dead' });
    expect(legacy.served.slice(before).filter((s) => s.method === 'POST')).toEqual([]);
    expect(await scrape(g.admin, 'switchyard_fallbacks_skipped_total', { route: 'safe', reason: 'method' })).toBe(1);

    const replayed = await send(g.url + '/posts/order', { method: 'POST', body: 'buy=2', headers: { 'content-type': 'text/plain' } });
    expect(replayed.status).toBe(200);
    expect(json(replayed)).toMatchObject({ backend: 'legacy', method: 'POST', body: 'buy=2' });
  });

  it('caps fallbacks at the budget in a full outage; the rest get the original 502', async () => {
    const n = 40;
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) statuses.push((await send(g.url + `/capped/${i}`)).status);
    const ok = statuses.filter((s) => s === 200).length;
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThanOrEqual(0.2 * n);
    expect(statuses.filter((s) => s === 502).length).toBe(n - ok);
    expect(await scrape(g.admin, 'switchyard_fallbacks_total', { route: 'capped' })).toBe(ok);
    expect(await scrape(g.admin, 'switchyard_fallbacks_skipped_total', { route: 'capped', reason: 'budget' })).toBe(n - ok);
    expect(await scrape(g.admin, 'switchyard_upstream_errors_total', { backend: 'dead2', reason: 'refused' })).toBe(n);
  });

  it('changes nothing for the client when the failed backend is a shadow target', async () => {
    const r = await send(g.url + '/shadowed/x');
    expect(r.status).toBe(200);
    expect(r.headers['x-switchyard-fallback']).toBeUndefined();
    await expect.poll(() => scrape(g.admin, 'switchyard_shadow_requests_total', { route: 'shadowed', target: 'dead' })).toBe(1);
  });
});

describe('readiness', () => {
  let legacy: KillableServer;
  let g: TestGateway;

  beforeAll(async () => {
    legacy = await KillableServer.start('legacy');
    g = await startGateway({
      backends: { legacy: legacy.url, gone: '{ url: "http://127.0.0.1:9", health: { path: /health, interval: 100ms, timeout: 100ms } }' },
      rules: 'default: legacy\nroutes:\n  - { name: beta, match: { path: "/beta/**" }, backend: gone }\n',
    });
  });
  afterAll(async () => {
    await g.stop();
    await legacy.close();
  });

  it('is 503 while a backend the rules send traffic to has no healthy host; /healthz stays 200', async () => {
    await expect.poll(async () => (await send(g.admin + '/readyz')).status, POLL).toBe(503);
    const body = json(await send(g.admin + '/readyz'));
    expect(body).toMatchObject({
      ready: false,
      source: 'file',
      version: 0,
      backends: { legacy: { state: 'up', used: true }, gone: { state: 'down', used: true } },
    });
    expect(body.reason).toMatch(/route beta sends traffic to backend gone, which is down/);
    expect((await send(g.admin + '/healthz')).status).toBe(200);
    expect(await scrape(g.admin, 'switchyard_backend_host_healthy', { backend: 'gone', host: 'http://127.0.0.1:9' })).toBe(0);
  });
});
