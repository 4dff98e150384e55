import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { echoBackend, json, send, type TestServer } from '../helpers/servers.js';

/** What the backend saw of X-Forwarded-* when a client on 127.0.0.1 claims https and another host. */
async function forwardedThrough(trusted: string[]): Promise<Record<string, string>> {
  backend = await echoBackend('legacy');
  g = await startGateway({
    backends: { legacy: backend.url },
    rules: 'default: legacy\n',
    extra: `trusted_proxies: ${JSON.stringify(trusted)}`,
  });
  const r = await send(`${g.url}/x`, { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example', host: 'shop.example' } });
  return json<{ headers: Record<string, string> }>(r).headers;
}

let backend: TestServer | undefined;
let g: TestGateway | undefined;
afterEach(async () => {
  await g?.stop();
  await backend?.close();
});

describe('X-Forwarded-Proto and -Host from clients', () => {
  it('are overwritten for a client that is not a trusted proxy', async () => {
    const seen = await forwardedThrough(['10.0.0.0/8']);
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-host']).toBe('shop.example');
  });

  it('are kept for a trusted proxy', async () => {
    const seen = await forwardedThrough(['127.0.0.1/32']);
    expect(seen['x-forwarded-proto']).toBe('https');
    expect(seen['x-forwarded-host']).toBe('evil.example');
  });

  it('are overwritten by default (no trusted_proxies)', async () => {
    const seen = await forwardedThrough([]);
    expect(seen['x-forwarded-proto']).toBe('http');
  });
});
