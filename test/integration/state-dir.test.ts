import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, send, type TestServer } from '../helpers/servers.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

const RULES = `default: legacy
routes:
  - name: everything
    match: { path: "/**" }
    backend: legacy
    shadow: { percent: 100 }
`;

describe('state_dir', () => {
  let legacy: TestServer;
  let pipeline: TestServer;
  let g: TestGateway;

  beforeAll(async () => {
    legacy = await echoBackend('legacy');
    pipeline = await echoBackend('pipeline');
    // The helper sets state_dir to <test dir>/state, which does not exist yet.
    g = await startGateway({ backends: { legacy: legacy.url, pipeline: pipeline.url }, rules: RULES });
  });

  afterAll(async () => {
    await g?.stop();
    await legacy?.close();
    await pipeline?.close();
  });

  it('is created at start, readable by its owner only', () => {
    const st = statSync(join(g.dir, 'state'));
    expect(st.isDirectory()).toBe(true);
    expect(st.mode & 0o777).toBe(0o700);
  });

  it('receives the diff samples when shadow.samples.file is not set, and nothing lands next to the config', async () => {
    // The two echo backends name themselves in the body: every comparison is a mismatch.
    expect((await send(g.url + '/items/1')).status).toBe(200);
    const samples = join(g.dir, 'state', 'diff-samples.jsonl');
    await expect.poll(() => existsSync(samples) && readFileSync(samples, 'utf8').includes('"route":"everything"')).toBe(true);
    expect(readdirSync(g.dir).sort()).toEqual(['gateway.yaml', 'rules.yaml', 'state']);
  });
});
