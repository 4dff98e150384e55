import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { echoBackend, send, type TestServer } from '../helpers/servers.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

describe('access log', () => {
  let legacy: TestServer;
  let pipeline: TestServer;
  let g: TestGateway;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    legacy = await echoBackend('legacy');
    pipeline = await echoBackend('pipeline');
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        cb();
      },
    });
    g = await startGateway({
      backends: { legacy: legacy.url, pipeline: pipeline.url, down: 'http://127.0.0.1:9' },
      rules: 'default: legacy\nroutes:\n  - { name: api, match: { path: "/api/**" }, backend: legacy, shadow: {} }\n  - { name: down, match: { path: "/down" }, backend: down }\n',
      extra: 'shadow:\n  samples: { file: samples.jsonl }',
      options: { logger: createLogger('info', sink) },
    });
  });
  afterAll(async () => {
    await g.stop();
    await legacy.close();
    await pipeline.close();
  });

  const access = () => lines.filter((l) => l.kind === 'access');

  it('writes one structured line per request', async () => {
    await send(g.url + '/api/items?x=1', { method: 'POST', body: 'hello', headers: { 'x-request-id': 'log-1' } });
    await expect.poll(() => access().length).toBe(1);
    expect(access()[0]).toMatchObject({
      level: 30,
      request_id: 'log-1',
      method: 'POST',
      path: '/api/items',
      route: 'api',
      backend: 'legacy',
      placement: 'fixed',
      shadow: 'skipped:method', // a POST is not shadowed unless the route opts in
      status: 200,
      bytes_in: expect.any(Number),
      bytes_out: expect.any(Number),
      duration_ms: expect.any(Number),
    });
    expect(typeof access()[0]!.time).toBe('string');
    // Request line, headers and the 5-byte body, like nginx's $request_length.
    expect(access()[0]!.bytes_in).toBeGreaterThan(5 + 'POST /api/items?x=1 HTTP/1.1\r\n'.length);
  });

  it('logs the error and its cause', async () => {
    await send(g.url + '/down');
    await expect.poll(() => access().length).toBe(2);
    expect(access()[1]).toMatchObject({ route: 'down', backend: 'down', status: 502, error: 'refused', cause: expect.stringMatching(/ECONNREFUSED|connect/) });
  });

  it('says what happened to the shadow copy', async () => {
    await send(g.url + '/api/get');
    await expect.poll(() => access().length).toBe(3);
    expect(access()[2]).toMatchObject({ shadow: 'pipeline' });
  });
});
