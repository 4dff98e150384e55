import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, send, type TestServer } from '../helpers/servers.js';
import { startGateway, tempDir, type TestGateway } from '../helpers/gateway.js';

/**
 * A directory laid out as the kubelet lays out a mounted ConfigMap: the visible rules.yaml is a
 * symlink to ..data/rules.yaml, and an update writes a new timestamped directory and swaps the
 * ..data symlink by rename. rules.yaml itself never changes, so no event names it.
 */
class ConfigMapDir {
  private n = 0;
  private current: string | undefined;
  constructor(readonly dir: string) {}

  publish(files: Record<string, string>): void {
    const ts = join(this.dir, `..2026_01_01_00_00_0${this.n++}.000000001`);
    mkdirSync(ts);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(ts, name), text);
    symlinkSync(ts.slice(this.dir.length + 1), join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    if (!this.current) for (const name of Object.keys(files)) symlinkSync(`..data/${name}`, join(this.dir, name));
    if (this.current) rmSync(this.current, { recursive: true });
    this.current = ts;
  }
}

describe('rules from a mounted ConfigMap', () => {
  let legacy: TestServer;
  let pipeline: TestServer;
  let g: TestGateway;
  let cm: ConfigMapDir;

  beforeAll(async () => {
    legacy = await echoBackend('legacy');
    pipeline = await echoBackend('pipeline');
    cm = new ConfigMapDir(tempDir('switchyard-configmap-'));
    cm.publish({ 'rules.yaml': 'default: legacy\n' });
    g = await startGateway({
      backends: { legacy: legacy.url, pipeline: pipeline.url },
      rules: '',
      rulesBlock: () => `rules:\n  file: "${join(cm.dir, 'rules.yaml')}"\n  watch: true`,
    });
  });
  afterAll(async () => {
    await g.stop();
    rmSync(cm.dir, { recursive: true, force: true });
    await legacy.close();
    await pipeline.close();
  });

  const backendOf = async (path: string) => (await send(g.url + path)).headers['x-switchyard-backend'];

  it('applies an update made by swapping ..data, as the kubelet does', async () => {
    expect(await backendOf('/api/x')).toBe('legacy');
    cm.publish({ 'rules.yaml': 'default: legacy\nroutes:\n  - { name: api, match: { path: "/api/**" }, backend: pipeline }\n' });
    await expect.poll(() => backendOf('/api/x'), { timeout: 5000 }).toBe('pipeline');
    cm.publish({ 'rules.yaml': 'default: pipeline\n' });
    await expect.poll(() => backendOf('/other'), { timeout: 5000 }).toBe('pipeline');
    expect(JSON.parse((await send(g.admin + '/rules')).body)).toMatchObject({ yaml: 'default: pipeline\n', source: 'file' });
  });
});
