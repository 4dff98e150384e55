import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS, errorFields } from '../../src/errors.js';
import { createMetrics } from '../../src/metrics/catalogue.js';
import { CONTINUE, defineModule, respond, type PipelineModule, type LogPhase } from '../../src/pipeline/module.js';
import { STANDARD_MODULES } from '../../src/pipeline/modules/index.js';
import { PipelineServer } from '../../src/pipeline/pipeline-server.js';
import { parseProducts } from '../../src/products/products-config.js';
import { silentLogger } from '../helpers/gateway.js';
import { echoBackend, json, send, type TestServer } from '../helpers/servers.js';

const logs: LogPhase[] = [];
const calls: string[] = [];

const sneaky = defineModule({
  name: 'sneaky',
  failure: 'open',
  configure: () => true,
  filter: (r) => r.path.startsWith('/sneaky'),
  // Types forbid this (no upstreamHeaders in the request phase); a cast gets past them, the run-time check does not.
  request(ctx) {
    calls.push('sneaky.request');
    (ctx as unknown as { responseHeaders: { set(n: string, v: string): void } }).responseHeaders.set('x-a', '1');
    return CONTINUE;
  },
  upstreamRequest(ctx) {
    ctx.upstreamHeaders.set('x-sneaky', 'yes');
  },
  response(ctx) {
    // Writing the request headers for the origin after the origin answered is refused.
    (ctx as unknown as { upstreamHeaders: { set(n: string, v: string): void } }).upstreamHeaders.set('x-late', '1');
  },
});

const failsOpen = defineModule({
  name: 'fails-open',
  failure: 'open',
  configure: () => true,
  filter: (r) => r.path === '/boom-open',
  request() {
    throw new Error('bug in fails-open');
  },
});

const failsClosed = defineModule({
  name: 'fails-closed',
  failure: 'closed',
  configure: () => true,
  filter: (r) => r.path === '/boom-closed',
  request() {
    throw new Error('bug in fails-closed');
  },
});

const recorder = defineModule({
  name: 'recorder',
  failure: 'open',
  configure: () => true,
  filter: () => {
    calls.push('recorder.filter');
    return false;
  },
  request() {
    calls.push('recorder.request');
    return respond(418, 'never');
  },
  log(ctx) {
    logs.push({ ...ctx, request: ctx.request } as LogPhase);
  },
});

describe('pipeline engine', () => {
  let origin: TestServer;
  let server: PipelineServer;
  let url: string;
  const metrics = createMetrics({ processMetrics: false });

  beforeAll(async () => {
    origin = await echoBackend('origin');
    const products = parseProducts(`origin: { url: "${origin.url}" }\n`, 'p.yaml');
    const modules = [recorder, sneaky, failsOpen, failsClosed, ...STANDARD_MODULES] as PipelineModule<never>[];
    server = await PipelineServer.start({ products, listen: { host: '127.0.0.1', port: 0 }, metrics, logger: silentLogger(), modules });
    url = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.stop(500);
    await origin.close();
  });

  it('turns off modules whose config section is absent', () => {
    expect(server.pipeline.modules.map((m) => m.module.name)).toEqual(['recorder', 'sneaky', 'fails-open', 'fails-closed', 'method-guard', 'origin']);
  });

  it('skips the handlers of a module whose filter does not match, and still runs its log handler', async () => {
    calls.length = 0;
    logs.length = 0;
    expect((await send(url + '/plain')).status).toBe(200);
    expect(calls).toEqual(['recorder.filter']);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ status: 200, answeredBy: undefined });
  });

  it('lets a module change origin request headers only in upstream_request, and counts the violations', async () => {
    const r = await send(url + '/sneaky');
    expect(r.status).toBe(200);
    expect(json<{ headers: Record<string, string> }>(r).headers['x-sneaky']).toBe('yes');
    expect(r.headers['x-a']).toBeUndefined();
    expect(r.headers['x-late']).toBeUndefined();
    const m = await metrics.registry.getSingleMetricAsString('switchyard_pipeline_module_errors_total');
    expect(m).toMatch(/switchyard_pipeline_module_errors_total\{module="sneaky"\} 2/);
  });

  it('contains a failing module: fail-open continues, fail-closed answers 503, log runs for both', async () => {
    logs.length = 0;
    expect((await send(url + '/boom-open')).status).toBe(200);
    const closed = await send(url + '/boom-closed');
    expect(closed.status).toBe(503);
    expect(json(closed)).toEqual({ ...errorFields(ERRORS.PIPELINE_MODULE_FAILED), module: 'fails-closed' });
    expect(json(closed)).toMatchObject({ code: 'SWY_ERR_PIPELINE_MODULE_FAILED' });
    expect(logs.map((l) => [l.status, l.answeredBy, l.error?.message])).toEqual([
      [200, undefined, undefined],
      [503, 'fails-closed', 'bug in fails-closed'],
    ]);
    const m = await metrics.registry.getSingleMetricAsString('switchyard_pipeline_module_errors_total');
    expect(m).toMatch(/module="fails-open"\} 1/);
    expect(m).toMatch(/module="fails-closed"\} 1/);
  });

  it('records requests, latency and per-module durations', async () => {
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/switchyard_pipeline_requests_total\{answered_by="origin",code="200"\} \d+/);
    expect(text).toMatch(/switchyard_pipeline_requests_total\{answered_by="fails-closed",code="503"\} 1/);
    expect(text).toMatch(/switchyard_pipeline_module_duration_seconds_count\{module="method-guard",phase="request"\} \d+/);
    expect(text).toMatch(/switchyard_pipeline_request_duration_seconds_count \d+/);
  });

  it('answers 502 naming the origin when it is down, through the response phase', async () => {
    const products = parseProducts('origin: { url: "http://127.0.0.1:9" }\nheaders: { response: [ { set: x-edge, value: "1" } ] }\n', 'p.yaml');
    const s = await PipelineServer.start({ products, listen: { host: '127.0.0.1', port: 0 }, metrics: createMetrics({ processMetrics: false }), logger: silentLogger() });
    try {
      const r = await send(`http://127.0.0.1:${s.port}/x`);
      expect(r.status).toBe(502);
      expect(json(r)).toMatchObject({ code: 'SWY_ERR_UPSTREAM_REFUSED', backend: 'origin' });
      expect(r.headers['x-edge']).toBe('1');
    } finally {
      await s.stop(500);
    }
  });
});
