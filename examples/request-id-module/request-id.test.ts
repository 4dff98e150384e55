import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/catalogue.js';
import type { PipelineModule } from '../../src/pipeline/module.js';
import { STANDARD_MODULES } from '../../src/pipeline/modules/index.js';
import { PipelineServer } from '../../src/pipeline/pipeline-server.js';
import { parseProducts } from '../../src/products/products-config.js';
import { silentLogger } from '../../test/helpers/gateway.js';
import { echoBackend, json, send, type TestServer } from '../../test/helpers/servers.js';
import { requestId } from './request-id.js';

describe('example module: request-id', () => {
  let origin: TestServer;
  let server: PipelineServer;

  beforeAll(async () => {
    origin = await echoBackend('origin');
    server = await PipelineServer.start({
      products: parseProducts(`origin: { url: "${origin.url}" }\n`, 'products.yaml'),
      listen: { host: '127.0.0.1', port: 0 },
      metrics: createMetrics({ processMetrics: false }),
      logger: silentLogger(),
      modules: [requestId, ...STANDARD_MODULES] as PipelineModule<never>[],
    });
  });
  afterAll(async () => {
    await server.stop(500);
    await origin.close();
  });

  it('gives the origin and the client the same new id', async () => {
    const r = await send(`http://127.0.0.1:${server.port}/x`);
    const seen = json<{ headers: Record<string, string> }>(r).headers['x-request-id'];
    expect(seen).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers['x-request-id']).toBe(seen);
  });

  it('keeps an id the client sent', async () => {
    const r = await send(`http://127.0.0.1:${server.port}/x`, { headers: { 'x-request-id': 'abc-1' } });
    expect(json<{ headers: Record<string, string> }>(r).headers['x-request-id']).toBe('abc-1');
    expect(r.headers['x-request-id']).toBe('abc-1');
  });
});
