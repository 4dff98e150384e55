import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { metricValue, scrape } from '../helpers/metrics.js';
import { echoBackend, json, send, type TestServer } from '../helpers/servers.js';

const RULES = `
default: legacy
routes:
  - name: beta-header
    match: { path: "/api/**", headers: { x-beta: "on" } }
    backend: pipeline
  - name: shop-host
    match: { host: "*.shop.example", path: "/api/catalog/**" }
    backend: pipeline
  - name: catalog
    match: { path: "/api/catalog/**", methods: [GET, HEAD] }
    backend: legacy
  - name: one-segment
    match: { path: "/users/*/profile" }
    backend: pipeline
  - name: regex
    match: { path: "~^/v[0-9]+/items$" }
    backend: pipeline
  - name: cookie
    match: { cookies: { plan: "pro" } }
    backend: pipeline
  - name: query
    match: { path: "/search", query: { v: "2" } }
    backend: pipeline
  - name: present
    match: { headers: { x-canary: "*" } }
    backend: pipeline
  - name: header-regex
    match: { headers: { user-agent: "~^curl/" } }
    backend: pipeline
`;

describe('gateway routing', () => {
  let legacy: TestServer;
  let pipeline: TestServer;
  let g: TestGateway;

  beforeAll(async () => {
    legacy = await echoBackend('legacy');
    pipeline = await echoBackend('pipeline');
    g = await startGateway({ backends: { legacy: legacy.url, pipeline: pipeline.url }, rules: RULES });
  });
  afterAll(async () => {
    await g.stop();
    await legacy.close();
    await pipeline.close();
  });

  const served = async (path: string, headers: Record<string, string> = {}, method = 'GET') => {
    const r = await send(g.url + path, { headers, method });
    return {
      backend: r.headers['x-switchyard-backend'],
      route: method === 'HEAD' ? undefined : json<{ headers: Record<string, string> }>(r).headers['x-switchyard-route'],
      status: r.status,
    };
  };

  it('sends a request that matches no route to the default backend', async () => {
    expect(await served('/nothing/here')).toMatchObject({ backend: 'legacy', route: 'default' });
  });

  it('lets the first matching route win', async () => {
    expect(await served('/api/catalog/1', { 'x-beta': 'on' })).toMatchObject({ backend: 'pipeline', route: 'beta-header' });
    expect(await served('/api/catalog/1')).toMatchObject({ backend: 'legacy', route: 'catalog' });
  });

  it('matches a leading host wildcard, not the bare domain', async () => {
    expect(await served('/api/catalog/1', { host: 'eu.shop.example' })).toMatchObject({ route: 'shop-host' });
    expect(await served('/api/catalog/1', { host: 'EU.Shop.Example:8080' })).toMatchObject({ route: 'shop-host' });
    expect(await served('/api/catalog/1', { host: 'shop.example' })).toMatchObject({ route: 'catalog' });
  });

  it('matches a prefix with and without the trailing part, never a sibling', async () => {
    expect(await served('/api/catalog')).toMatchObject({ route: 'catalog' });
    expect(await served('/api/catalogue')).toMatchObject({ route: 'default' });
  });

  it('matches methods', async () => {
    expect(await served('/api/catalog/1', {}, 'POST')).toMatchObject({ route: 'default' });
    expect((await served('/api/catalog/1', {}, 'HEAD')).backend).toBe('legacy');
  });

  it('matches exactly one segment with "*"', async () => {
    expect(await served('/users/42/profile')).toMatchObject({ route: 'one-segment' });
    expect(await served('/users/42/x/profile')).toMatchObject({ route: 'default' });
    expect(await served('/users//profile')).toMatchObject({ route: 'default' });
  });

  it('matches regular expressions, cookies, query parameters and header presence', async () => {
    expect(await served('/v2/items')).toMatchObject({ route: 'regex' });
    expect(await served('/v2/items/3')).toMatchObject({ route: 'default' });
    expect(await served('/x', { cookie: 'a=1; plan=pro' })).toMatchObject({ route: 'cookie' });
    expect(await served('/x', { cookie: 'plan=free' })).toMatchObject({ route: 'default' });
    expect(await served('/search?q=a&v=2')).toMatchObject({ route: 'query' });
    expect(await served('/search?v=1')).toMatchObject({ route: 'default' });
    expect(await served('/x', { 'x-canary': '' })).toMatchObject({ route: 'present' });
    expect(await served('/x', { 'user-agent': 'curl/8.0' })).toMatchObject({ route: 'header-regex' });
  });

  it('forwards x-forwarded-*, a request id, and the route; drops hop-by-hop and control headers', async () => {
    const r = await send(g.url + '/a?b=1', {
      headers: { connection: 'keep-alive, x-hop', 'x-hop': '1', 'x-forwarded-for': '10.0.0.1', 'x-switchyard-token': 'nope', 'keep-alive': 'timeout=5' },
    });
    const seen = json<{ headers: Record<string, string>; url: string }>(r);
    expect(seen.url).toBe('/a?b=1');
    expect(seen.headers['x-forwarded-for']).toBe('10.0.0.1, 127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-forwarded-host']).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(seen.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers['x-request-id']).toBe(seen.headers['x-request-id']);
    expect(seen.headers['x-hop']).toBeUndefined();
    expect(seen.headers['keep-alive']).toBeUndefined();
    expect(seen.headers['x-switchyard-token']).toBeUndefined();
  });

  it('passes a client request id through', async () => {
    const r = await send(g.url + '/a', { headers: { 'x-request-id': 'abc-123' } });
    expect(json<{ headers: Record<string, string> }>(r).headers['x-request-id']).toBe('abc-123');
    expect(r.headers['x-request-id']).toBe('abc-123');
  });

  it('honours x-switchyard-force only with the right token, and counts the rest', async () => {
    const counters = async () => {
      const text = await scrape(g.admin);
      return [
        metricValue(text, 'switchyard_override_rejected_total'),
        metricValue(text, 'switchyard_route_placements_total', { route: 'default', backend: 'pipeline', placement: 'override' }),
      ];
    };
    const [rejectedBefore, overriddenBefore] = await counters();
    expect(await served('/nothing', { 'x-switchyard-force': 'pipeline', 'x-switchyard-token': 'let-me-in' })).toMatchObject({ backend: 'pipeline' });
    expect(await served('/nothing', { 'x-switchyard-force': 'pipeline', 'x-switchyard-token': 'let-me-ix' })).toMatchObject({ backend: 'legacy' });
    expect(await served('/nothing', { 'x-switchyard-force': 'pipeline' })).toMatchObject({ backend: 'legacy' });
    expect(await served('/nothing', { 'x-switchyard-force': 'nowhere', 'x-switchyard-token': 'let-me-in' })).toMatchObject({ backend: 'legacy' });
    // Three rejected (wrong token, no token, unknown backend), one honoured.
    await expect.poll(counters).toEqual([rejectedBefore! + 3, overriddenBefore! + 1]);
  });

  it('exposes health, readiness and metrics without raw paths in labels', async () => {
    expect((await send(g.admin + '/healthz')).status).toBe(200);
    const ready = await send(g.admin + '/readyz');
    expect(ready.status).toBe(200);
    expect(json(ready)).toMatchObject({ ready: true, source: 'file' });
    const metrics = (await send(g.admin + '/metrics')).body;
    expect(metrics).toMatch(/switchyard_requests_total\{route="catalog",backend="legacy",code="200"\} \d+/);
    expect(metrics).toMatch(/switchyard_request_duration_seconds_bucket\{le="0.5",route="catalog",backend="legacy"\} \d+/);
    expect(metrics).not.toMatch(/\/api\/catalog/);
    expect(metrics).toMatch(/process_cpu_seconds_total/);
  });
});
