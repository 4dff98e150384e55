import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/catalogue.js';
import { defineModule, respond, CONTINUE, type PipelineModule } from '../../src/pipeline/module.js';
import { STANDARD_MODULES } from '../../src/pipeline/modules/index.js';
import { PipelineServer } from '../../src/pipeline/pipeline-server.js';
import { parseProducts } from '../../src/products/products-config.js';
import { silentLogger } from '../helpers/gateway.js';
import { echoBackend, send, type TestServer } from '../helpers/servers.js';

/** A module with a per-pipeline counter: how the contract hands state to handlers. */
const counting = defineModule<{ limit: number }, { seen: number }>({
  name: 'counting',
  failure: 'open',
  configure: () => ({ limit: 2 }),
  createState: () => ({ seen: 0 }),
  filter: (r) => r.path === '/count',
  request: (_ctx, c, s) => (++s.seen > c.limit ? respond(429, 'counting') : CONTINUE),
});

describe('module state is built per pipeline, config stays frozen', () => {
  let origin: TestServer;
  let a: PipelineServer;
  let b: PipelineServer;

  beforeAll(async () => {
    origin = await echoBackend('origin');
    // One frozen products config, two pipelines built from it.
    const products = parseProducts(`origin: { url: "${origin.url}" }\nrate_limits:\n  - { id: one, path: "/x", key: "header:x-client", rate: 0.001, burst: 1 }\n`, 'p.yaml');
    const start = () =>
      PipelineServer.start({
        products,
        listen: { host: '127.0.0.1', port: 0 },
        metrics: createMetrics({ processMetrics: false }),
        logger: silentLogger(),
        modules: [counting, ...STANDARD_MODULES] as PipelineModule<never>[],
      });
    a = await start();
    b = await start();
  });
  afterAll(async () => {
    await a.stop(500);
    await b.stop(500);
    await origin.close();
  });

  const urlOf = (s: PipelineServer) => `http://127.0.0.1:${s.port}`;
  const loaded = (s: PipelineServer, name: string) => s.pipeline.modules.find((m) => m.module.name === name)!;

  it('deep-freezes every module config', () => {
    for (const m of a.pipeline.modules) expect(Object.isFrozen(m.config), m.module.name).toBe(true);
    const rl = loaded(a, 'rate-limit').config as { limits: { burst: number }[] };
    expect(Object.isFrozen(rl.limits[0])).toBe(true);
    expect(() => {
      (rl.limits[0] as { burst: number }).burst = 100;
    }).toThrow(TypeError);
  });

  it('keeps rate-limit buckets in the state, apart from the config and per pipeline', async () => {
    const headers = { 'x-client': 'c-1' };
    expect((await send(urlOf(a) + '/x', { headers })).status).toBe(200);
    expect((await send(urlOf(a) + '/x', { headers })).status).toBe(429);
    // Same frozen config, another pipeline: its own, full bucket.
    expect((await send(urlOf(b) + '/x', { headers })).status).toBe(200);
    expect(loaded(a, 'rate-limit').state).not.toBe(loaded(b, 'rate-limit').state);
    expect(Object.keys(loaded(a, 'rate-limit').config as object)).toEqual(['limits']);
    expect((loaded(a, 'rate-limit').state as { buckets: Map<string, unknown> }).buckets.size).toBe(1);
  });

  it('hands a module its own state in every handler', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await send(urlOf(a) + '/count')).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect((await send(urlOf(b) + '/count')).status).toBe(200);
    expect(loaded(a, 'counting').state).toEqual({ seen: 3 });
    expect(loaded(b, 'counting').state).toEqual({ seen: 1 });
  });
});
