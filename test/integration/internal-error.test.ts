import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/forward/backend.js';
import { echoBackend, json, send, type TestServer } from '../helpers/servers.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

async function metrics(g: TestGateway): Promise<string> {
  return (await send(g.admin + '/metrics')).body;
}

describe('a bug in a step', () => {
  let legacy: TestServer;
  let g: TestGateway;

  beforeAll(async () => {
    legacy = await echoBackend('legacy');
    g = await startGateway({
      backends: { legacy: legacy.url, buggy: legacy.url },
      rules: 'default: legacy\nroutes:\n  - { name: buggy, match: { path: "/buggy/**" }, backend: buggy }\n',
    });
    // The forward step of this backend throws, as a bug would: a real gateway, one broken step.
    const backends = g.gw.runtime.backends as Map<string, Backend>;
    const real = backends.get('buggy')!;
    backends.set('buggy', {
      name: real.name,
      config: real.config,
      forward() {
        throw new Error('a bug in the forward step');
      },
      destroy: () => real.destroy(),
    });
  });
  afterAll(async () => {
    await g.stop();
    await legacy.close();
  });

  it('costs one request a 500 with SWY_ERR_INTERNAL, counted as 500 and not against the backend; the gateway carries on', async () => {
    const r = await send(g.url + '/buggy/x', { headers: { 'x-request-id': 'bug-1' } });
    expect(r.status).toBe(500);
    expect(json(r)).toMatchObject({ error: 'internal', code: 'SWY_ERR_INTERNAL', request_id: 'bug-1' });
    expect(r.headers['x-request-id']).toBe('bug-1');

    const text = await metrics(g);
    expect(text).toContain('switchyard_requests_total{route="buggy",backend="buggy",code="500"} 1');
    expect(text).not.toMatch(/switchyard_upstream_errors_total\{backend="buggy"/);
    expect(text).not.toMatch(/switchyard_client_errors_total\{reason="internal"/);
    expect(text).toMatch(/switchyard_requests_in_flight 0/);

    // The same process, still serving, on a new connection and the other backend.
    expect((await send(g.url + '/ok')).status).toBe(200);
    expect(await metrics(g)).toContain('switchyard_requests_total{route="default",backend="legacy",code="200"} 1');
  });
});
