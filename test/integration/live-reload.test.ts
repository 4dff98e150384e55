import { renameSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { metric } from '../helpers/metrics.js';
import { echoBackend, send, type TestServer } from '../helpers/servers.js';

describe('rules file live reload', () => {
  let legacy: TestServer;
  let pipeline: TestServer;
  let g: TestGateway;

  beforeAll(async () => {
    legacy = await echoBackend('legacy');
    pipeline = await echoBackend('pipeline');
    g = await startGateway({ backends: { legacy: legacy.url, pipeline: pipeline.url }, rules: 'default: legacy\n' });
  });
  afterAll(async () => {
    await g.stop();
    await legacy.close();
    await pipeline.close();
  });

  const backendOf = async (path: string) => (await send(g.url + path)).headers['x-switchyard-backend'];

  it('applies a valid edit without a restart', async () => {
    expect(await backendOf('/api/x')).toBe('legacy');
    writeFileSync(g.rulesFile, 'default: legacy\nroutes:\n  - { name: api, match: { path: "/api/**" }, backend: pipeline }\n');
    await expect.poll(() => backendOf('/api/x')).toBe('pipeline');
  });

  it('applies a file replaced by rename, as editors do', async () => {
    const tmp = g.rulesFile + '.tmp';
    writeFileSync(tmp, 'default: pipeline\n');
    renameSync(tmp, g.rulesFile);
    await expect.poll(() => backendOf('/other')).toBe('pipeline');
  });

  it('reports and ignores an invalid edit, keeping the active rules', async () => {
    const invalid = () => metric(g.admin, 'switchyard_rules_reloads_total', { result: 'invalid' });
    const before = await invalid();
    writeFileSync(g.rulesFile, 'default: nowhere\n');
    await expect.poll(invalid).toBe(before + 1);
    expect(await backendOf('/other')).toBe('pipeline');
    const rules = JSON.parse((await send(g.admin + '/rules')).body) as { yaml: string; source: string };
    expect(rules).toMatchObject({ yaml: 'default: pipeline\n', source: 'file' });
  });
});
