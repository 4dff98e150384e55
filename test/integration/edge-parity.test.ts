/**
 * Refusals below what the conformance scenarios can carry, sent as raw bytes to the legacy
 * layer (nginx + Lua) and to the pipeline service, which must answer them alike
 * (docs/products.md, "What both implementations refuse or normalize first"):
 *   - CONNECT, which node:http hands over as a tunnel (the gateway in front of an in-process
 *     pipeline still closes it unanswered, so it is no shared scenario);
 *   - a head that fills nginx's eight buffers and that Node's parser refuses itself.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoOrigin } from '../../scripts/demo-origin.js';
import { LegacyLayer } from '../../src/legacy/legacy-layer.js';
import { createMetrics } from '../../src/metrics/catalogue.js';
import { PipelineServer } from '../../src/pipeline/pipeline-server.js';
import { conformanceProducts } from '../conformance/run-conformance.js';
import { silentLogger, tempDir } from '../helpers/gateway.js';
import { type RawReply, rawExchange, wholeResponse } from '../helpers/raw.js';
import { freePort } from '../helpers/redis.js';

function parsed(r: RawReply): { status: number; headers: Record<string, string>; json: unknown } {
  const end = r.text.indexOf('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const l of r.text.slice(0, end).split('\r\n').slice(1)) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: r.status, headers, json: JSON.parse(r.text.slice(end + 4)) };
}

describe('refusals the legacy layer and the pipeline service answer alike', () => {
  let origin: Awaited<ReturnType<typeof startDemoOrigin>>;
  let legacy: LegacyLayer;
  let pipeline: PipelineServer;
  const both = () =>
    [
      ['legacy', legacy.listen.port],
      ['pipeline', pipeline.port],
    ] as const;

  beforeAll(async () => {
    origin = await startDemoOrigin();
    const o = { host: '127.0.0.1', port: origin.port };
    legacy = await LegacyLayer.start(
      { products: conformanceProducts(), origin: o, listen: { host: '127.0.0.1', port: await freePort() }, prefix: tempDir('switchyard-legacy-') },
      resolve('.'),
    );
    pipeline = await PipelineServer.start({
      products: conformanceProducts(),
      origin: o,
      listen: { host: '127.0.0.1', port: 0 },
      metrics: createMetrics({ processMetrics: false }),
      logger: silentLogger(),
    });
  });
  afterAll(async () => {
    await legacy?.stop();
    await pipeline?.stop(500);
    await origin?.close();
  });

  it('refuses CONNECT to an authority (the target CONNECT has) with 400 JSON', async () => {
    for (const [name, port] of both()) {
      const r = await rawExchange(port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', { until: wholeResponse });
      expect(parsed(r), name).toMatchObject({ status: 400, json: { error: 'bad_request', code: 'SWY_ERR_CLIENT_BAD_REQUEST' } });
    }
  });

  it('answers CONNECT to a path as any method the edge does not serve: 405, Allow, response header rules', async () => {
    for (const [name, port] of both()) {
      const r = await rawExchange(port, 'CONNECT /api/catalog HTTP/1.1\r\nHost: shop.example\r\nOrigin: https://shop.example\r\n\r\n', {
        until: wholeResponse,
      });
      expect(parsed(r), name).toMatchObject({
        status: 405,
        headers: { allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS', 'x-frame-options': 'DENY', 'access-control-allow-origin': 'https://shop.example' },
        json: { error: 'method_not_allowed' },
      });
      // The connection it came on is done with; the next one is served.
      expect((await rawExchange(port, 'GET /find HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n')).status, name).toBe(308);
    }
  });

  it("answers a head past nginx's buffers and Node's parser limit with 431 JSON", async () => {
    // Lines just over 8000 bytes, with short ones between: nginx's buffers fill half, and
    // Node's parser counts more than 32 KiB of names and values.
    let head = 'GET /find HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n';
    for (let i = 0; head.length < 36 * 1024; i++) head += `X-Long-${i}: ${'z'.repeat(8100)}\r\nX-Short-${i}: z\r\n`;
    for (const [name, port] of both()) {
      const r = await rawExchange(port, `${head}\r\n`, { until: wholeResponse });
      expect(parsed(r), name).toMatchObject({ status: 431, json: { error: 'headers_too_large', code: 'SWY_ERR_CLIENT_HEADERS_TOO_LARGE' } });
      expect(parsed(r).headers['x-frame-options'], `${name}: refused before any product`).toBeUndefined();
    }
  });
});
