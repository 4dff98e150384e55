/**
 * Real client addresses behind the gateway (issue 11, item 5): with the gateway in
 * `trusted_proxies`, both the legacy layer (nginx's realip module) and the pipeline key `ip`
 * rate limits on the client named by X-Forwarded-For, not on the gateway. Two clients on
 * different loopback addresses get separate buckets on both implementations.
 */
import { request } from 'node:http';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoOrigin } from '../../scripts/demo-origin.js';
import { formatIssue } from '../../src/config/yaml-source.js';
import { clientAddress, compileTrustedProxies } from '../../src/http/client-address.js';
import { LegacyLayer } from '../../src/legacy/legacy-layer.js';
import { createMetrics } from '../../src/metrics/catalogue.js';
import { PipelineServer } from '../../src/pipeline/pipeline-server.js';
import { parseProducts, validateProductsText } from '../../src/products/products-config.js';
import { silentLogger, startGateway, type TestGateway, tempDir } from '../helpers/gateway.js';
import { freePort } from '../helpers/redis.js';

const PRODUCTS = `origin: { url: "http://127.0.0.1:9" }
trusted_proxies: ["127.0.0.1", "10.0.0.0/8"]
rate_limits:
  - { id: per-ip, path: "/rl/**", key: ip, rate: 0.001, burst: 2 }
`;

function get(url: string, localAddress: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((res, rej) => {
    const req = request(url, { localAddress, headers, agent: false }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode ?? 0));
    });
    req.on('error', rej);
    req.end();
  });
}

describe('client addresses through trusted proxies', () => {
  let origin: Awaited<ReturnType<typeof startDemoOrigin>>;
  let legacy: LegacyLayer;
  let pipeline: PipelineServer;
  let gw: TestGateway;

  beforeAll(async () => {
    origin = await startDemoOrigin();
    const products = parseProducts(PRODUCTS, 'products.yaml');
    const to = { host: '127.0.0.1', port: origin.port };
    legacy = await LegacyLayer.start(
      { products, origin: to, listen: { host: '127.0.0.1', port: await freePort() }, prefix: tempDir('switchyard-legacy-') },
      resolve('.'),
    );
    pipeline = await PipelineServer.start({
      products,
      origin: to,
      listen: { host: '127.0.0.1', port: 0 },
      metrics: createMetrics({ processMetrics: false }),
      logger: silentLogger(),
    });
    gw = await startGateway({
      backends: { legacy: legacy.url, pipeline: `http://127.0.0.1:${pipeline.port}` },
      rules: 'default: legacy\nroutes:\n  - name: p\n    match: { headers: { x-backend: pipeline } }\n    backend: pipeline\n',
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await legacy?.stop();
    await pipeline?.stop(500);
    await origin?.close();
  });

  it.each(['legacy', 'pipeline'])('gives two clients separate ip buckets on %s', async (backend) => {
    const h = { 'x-backend': backend };
    const url = `${gw.url}/rl/${backend}`;
    // Client A uses its burst of 2, then is limited.
    expect(await get(url, '127.0.0.2', h)).toBe(404);
    expect(await get(url, '127.0.0.2', h)).toBe(404);
    expect(await get(url, '127.0.0.2', h)).toBe(429);
    // Client B, through the same gateway, has its own bucket.
    expect(await get(url, '127.0.0.3', h)).toBe(404);
    // A client cannot pick its bucket by sending X-Forwarded-For: it is not a trusted proxy.
    expect(await get(url, '127.0.0.2', { ...h, 'x-forwarded-for': '192.0.2.99' })).toBe(429);
  });

  it('walks X-Forwarded-For from the right, skipping trusted addresses (the realip rule)', () => {
    const t = compileTrustedProxies(['127.0.0.1', '10.0.0.0/8']);
    expect(clientAddress('127.0.0.1', '198.51.100.7, 10.1.2.3', t)).toBe('198.51.100.7');
    expect(clientAddress('127.0.0.1', '203.0.113.1, 198.51.100.7, 10.1.2.3', t)).toBe('198.51.100.7');
    expect(clientAddress('127.0.0.1', '10.0.0.1, 10.0.0.2', t)).toBe('10.0.0.1');
    expect(clientAddress('192.0.2.1', '198.51.100.7', t)).toBe('192.0.2.1');
    expect(clientAddress('127.0.0.1', 'garbage', t)).toBe('127.0.0.1');
    expect(clientAddress('127.0.0.1', '198.51.100.7', undefined)).toBe('127.0.0.1');
  });

  // Found by the differential fuzz (test/fuzz/): nginx's ngx_http_get_forwarded_addr in detail.
  it('reads entries as nginx does: ports, leading zeros, text form, empty entries, several lines', () => {
    const t = compileTrustedProxies(['127.0.0.1', '10.0.0.0/8']);
    expect(clientAddress('127.0.0.1', '010.000.000.001', t)).toBe('10.0.0.1');
    expect(clientAddress('127.0.0.1', '198.51.100.7:8080', t)).toBe('198.51.100.7');
    expect(clientAddress('127.0.0.1', '[2001:DB8::1]:80', t)).toBe('2001:db8::1');
    expect(clientAddress('127.0.0.1', '[2001:db8::1]', t)).toBe('127.0.0.1');
    expect(clientAddress('127.0.0.1', '::FFFF:198.51.100.7', t)).toBe('::ffff:198.51.100.7');
    expect(clientAddress('127.0.0.1', '198.51.100.7:99999', t)).toBe('127.0.0.1');
    expect(clientAddress('127.0.0.1', '255.255.255.255', t)).toBe('127.0.0.1');
    expect(clientAddress('127.0.0.1', '198.51.100.7, , 10.0.0.1', t)).toBe('198.51.100.7');
    // A malformed entry ends the walk at the address found before it.
    expect(clientAddress('127.0.0.1', '198.51.100.7, junk, 10.0.0.1', t)).toBe('10.0.0.1');
    // Lines are walked from the last; an empty last line yields nothing, so the peer stays.
    expect(clientAddress('127.0.0.1', ['198.51.100.7', '10.0.0.1'], t)).toBe('198.51.100.7');
    expect(clientAddress('127.0.0.1', ['10.0.0.1, 10.0.0.2', ''], t)).toBe('127.0.0.1');
    expect(clientAddress('127.0.0.1', ['junk', '10.0.0.2'], t)).toBe('10.0.0.2');
  });

  it('refuses a malformed CIDR with FILE:LINE:COL', () => {
    const text = 'origin: { url: "http://127.0.0.1:9" }\ntrusted_proxies: ["10.0.0.0/33", "nope"]\n';
    expect(validateProductsText(text, 'products.yaml').map(formatIssue)).toEqual([
      'products.yaml:2:19: trusted_proxies[0]: "10.0.0.0/33": the prefix length is 0 to 32',
      'products.yaml:2:34: trusted_proxies[1]: "nope" is not an IP address or CIDR (such as 10.0.0.0/8)',
    ]);
  });
});
