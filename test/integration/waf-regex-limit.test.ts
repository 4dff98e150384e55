/**
 * The legacy WAF fails closed when PCRE gives up (issue 11, item 2): a pattern that backtracks
 * past `lua_regex_match_limit` makes ngx.re.find return an error, and the request is blocked
 * (403, logged) instead of passed. The limit is set low here so a short input reaches it.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LegacyLayer } from '../../src/legacy/legacy-layer.js';
import { parseProducts } from '../../src/products/products-config.js';
import { startDemoOrigin } from '../../scripts/demo-origin.js';
import { tempDir } from '../helpers/gateway.js';
import { freePort } from '../helpers/redis.js';
import { send } from '../helpers/servers.js';

const PRODUCTS = `origin: { url: "http://127.0.0.1:9" }
waf:
  - { id: nested, field: path, pattern: "^/x/(a+)+$" }
`;

describe('legacy WAF when PCRE reaches its match limit', () => {
  let origin: Awaited<ReturnType<typeof startDemoOrigin>>;
  let layer: LegacyLayer;
  let prefix: string;

  beforeAll(async () => {
    origin = await startDemoOrigin();
    prefix = tempDir('switchyard-legacy-');
    layer = await LegacyLayer.start(
      { products: parseProducts(PRODUCTS, 'products.yaml'), origin: { host: '127.0.0.1', port: origin.port }, listen: { host: '127.0.0.1', port: await freePort() }, prefix, regexMatchLimit: 1000 },
      resolve('.'),
    );
  });
  afterAll(async () => {
    await layer?.stop();
    await origin?.close();
  });

  it('generates pcre_jit on and the match limit', () => {
    const conf = readFileSync(layer.conf, 'utf8');
    expect(conf).toMatch(/^\s*pcre_jit on;/m);
    expect(conf).toMatch(/^\s*lua_regex_match_limit 1000;/m);
  });

  it('blocks a request whose match gives up, and logs why', async () => {
    const r = await send(`${layer.url}/x/${'a'.repeat(30)}!`);
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body)).toEqual({ error: 'blocked', rule: 'nested' });
    await expect.poll(() => readFileSync(join(prefix, 'logs', 'error.log'), 'utf8')).toMatch(/waf rule nested: regex error, request blocked/);
  });

  it('still answers by the match when the engine does not give up', async () => {
    expect((await send(`${layer.url}/x/aaa`)).status).toBe(403);
    expect((await send(`${layer.url}/x/b`)).status).toBe(404);
  });
});
