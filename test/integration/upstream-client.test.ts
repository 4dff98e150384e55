/**
 * Which client carries a request to a backend (`backends.NAME.client`), seen on the diagnostics
 * channel each client publishes as it writes a request: switchyard's own for plain HTTP, undici
 * on request, and undici for a body streamed as it arrives whatever the setting.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startServer, type TestServer } from '../helpers/servers.js';

describe('the upstream client of a backend', () => {
  let backend: TestServer;
  let g: TestGateway;
  const seen: string[] = [];
  /** Requests to the backend only (the test's own fetch() is undici too). */
  const heard = (client: string) => (m: unknown) => {
    const { origin, path } = (m as { request: { origin: unknown; path: string } }).request;
    if (String(origin) === new URL(backend.url).origin) seen.push(`${client} ${path}`);
  };
  const own = heard('switchyard');
  const undici = heard('undici');

  beforeAll(async () => {
    backend = await startServer((req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(`${req.method} ${req.url} ${n}`));
    });
    g = await startGateway({
      backends: { legacy: backend.url, old: backend.url },
      backendExtra: { old: ['client: undici'], legacy: ['request_buffering: 1kb'] },
      rules: 'default: legacy\nroutes:\n  - { name: old, match: { path: "/old/**" }, backend: old }\n',
    });
    subscribe('switchyard:upstream:sendHeaders', own);
    subscribe('undici:client:sendHeaders', undici);
  });
  afterAll(async () => {
    unsubscribe('switchyard:upstream:sendHeaders', own);
    unsubscribe('undici:client:sendHeaders', undici);
    await g.stop();
    await backend.close();
  });

  it('is switchyard’s own by default, undici when the backend says so, and undici for a streamed body', async () => {
    const get = await fetch(`${g.url}/a`);
    expect(await get.text()).toBe('GET /a 0');
    const small = await fetch(`${g.url}/b`, { method: 'POST', body: 'x'.repeat(100) });
    expect(await small.text()).toBe('POST /b 100');
    // Over request_buffering (1 KiB here): streamed after its first KiB.
    const big = await fetch(`${g.url}/c`, { method: 'POST', body: 'x'.repeat(5000) });
    expect(await big.text()).toBe('POST /c 5000');
    const old = await fetch(`${g.url}/old/d`);
    expect(await old.text()).toBe('GET /old/d 0');
    expect(seen).toEqual(['switchyard /a', 'switchyard /b', 'undici /c', 'undici /old/d']);
  });
});
