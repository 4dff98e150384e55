import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, send, type TestServer } from '../helpers/servers.js';
import { gatewayYaml, tempDir } from '../helpers/gateway.js';
import { TestRedis } from '../helpers/redis.js';
import { runCli, spawnGateway, type GatewayProcess } from '../helpers/process.js';

const V1 = 'default: legacy\nroutes:\n  - { name: api, match: { path: "/api/**" }, split: { legacy: 50, pipeline: 50 }, sticky: "header:x-user-id" }\n';
const V2 = V1.replace('legacy: 50, pipeline: 50', 'legacy: 20, pipeline: 80');

describe('switchyard CLI', () => {
  let redis: TestRedis;
  let dir: string;
  let config: string;
  let legacy: TestServer;
  let pipeline: TestServer;
  const procs: GatewayProcess[] = [];
  const env = () => ({ SWITCHYARD_REDIS_URL: redis.url });

  beforeAll(async () => {
    redis = await TestRedis.start();
    legacy = await echoBackend('legacy');
    pipeline = await echoBackend('pipeline');
    dir = tempDir();
    writeFileSync(join(dir, 'rules.yaml'), V1);
    writeFileSync(join(dir, 'v2.yaml'), V2);
    writeFileSync(join(dir, 'bad.yaml'), 'default: legacy\nroutes:\n  - name: x\n    split: { legacy: 10 }\n');
    config = join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      gatewayYaml(
        {
          backends: { legacy: legacy.url, pipeline: pipeline.url },
          rules: '',
          rulesBlock: (f) => `rules:\n  file: "${f}"\n  redis:\n    url: "${redis.url}"\n    poll_interval: 1s`,
        },
        join(dir, 'rules.yaml'),
      ),
    );
  });
  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await legacy.close();
    await pipeline.close();
    await redis.stop();
  });

  it('validates: exit 0 when valid, exit 1 with FILE:LINE:COL errors when not', async () => {
    expect(await runCli(['rules', 'validate', join(dir, 'rules.yaml'), '--config', config])).toMatchObject({ code: 0 });
    const bad = await runCli(['rules', 'validate', join(dir, 'bad.yaml'), '--config', config]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(`${join(dir, 'bad.yaml')}:4:12: routes[0].split: weights sum to 10, not 100\n`);
  });

  it('refuses to push an invalid file and writes nothing', async () => {
    const r = await runCli(['rules', 'push', join(dir, 'bad.yaml'), '--config', config], env());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.yaml:4:12:/);
    const c = redis.client();
    expect(await c.get('switchyard:{rules}:version')).toBeNull();
    c.disconnect();
  });

  it('pushes to 3 gateway processes, shows, diffs, lists history and rolls back', async () => {
    expect((await runCli(['rules', 'push', join(dir, 'rules.yaml'), '-m', 'first', '--config', config], env())).stdout).toBe('pushed version 1 (was 0) to switchyard:\n');
    for (let i = 0; i < 3; i++) procs.push(await spawnGateway(config));
    const versionOf = async (p: GatewayProcess) => JSON.parse((await send(`http://127.0.0.1:${p.adminPort}/rules`)).body).version as number;
    for (const p of procs) expect(await versionOf(p)).toBe(1);

    const push = await runCli(['rules', 'push', join(dir, 'v2.yaml'), '--expect-version', '1', '-m', 'ramp to 80', '--config', config], env());
    expect(push).toMatchObject({ code: 0, stdout: 'pushed version 2 (was 1) to switchyard:\n' });
    for (const p of procs) await expect.poll(() => versionOf(p), { timeout: 3000, interval: 20 }).toBe(2);

    const stale = await runCli(['rules', 'push', join(dir, 'rules.yaml'), '--expect-version', '1', '--config', config], env());
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/version conflict: expected version 1, but the active version is 2/);

    expect((await runCli(['rules', 'show', '--config', config], env())).stdout).toBe(V2);
    expect((await runCli(['rules', 'show', '--version', '1', '--config', config], env())).stdout).toBe(V1);
    const diff = await runCli(['rules', 'diff', '1', '2', '--config', config], env());
    // A unified diff with real hunk headers, as `diff -u` prints it.
    const [head, routes, api1] = V1.split('\n');
    expect(diff).toMatchObject({ code: 0, stdout: `--- version 1\n+++ version 2\n@@ -1,3 +1,3 @@\n ${head}\n ${routes}\n-${api1}\n+${V2.split('\n')[2]}\n` });
    const history = await runCli(['rules', 'history', '--config', config], env());
    expect(history.stdout).toMatch(/^\*\s+2 .*ramp to 80$/m);
    expect(history.stdout).toMatch(/^ \s+1 .*first$/m);

    const rb = await runCli(['rules', 'rollback', '--config', config], env());
    expect(rb).toMatchObject({ code: 0, stdout: 'rolled back to version 1: pushed version 3 (was 2) to switchyard:\n' });
    expect((await runCli(['rules', 'show', '--config', config], env())).stdout).toBe(V1);
    for (const p of procs) await expect.poll(() => versionOf(p), { timeout: 3000, interval: 20 }).toBe(3);
    const json = JSON.parse((await runCli(['rules', 'history', '--json', '--config', config], env())).stdout) as { version: number; message: string }[];
    expect(json[0]).toMatchObject({ version: 3, message: 'rollback to version 1' });
  }, 120_000); // 3 gateway processes and 10 CLI runs: about 40 s on a busy 2-core machine

  it('explains a decision, as text and as JSON', async () => {
    const text = await runCli(['explain', '--config', config, 'GET', '/api/items', '-H', 'x-user-id: u42']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^route: +api \(routes\[0\]\)$/m);
    expect(text.stdout).toMatch(/^sticky: +header:x-user-id = "u42"$/m);
    const j = JSON.parse((await runCli(['explain', '--config', config, '--json', 'GET', 'http://shop.example/api/items', '-H', 'X-User-Id: u42'])).stdout);
    expect(j).toMatchObject({ route: 'api', sticky_value: 'u42', placement: 'sticky', salt: 'api' });
    expect(j.bucket).toBeGreaterThanOrEqual(0);
    expect(j.backend).toBe(j.bucket < 5000 ? 'legacy' : 'pipeline');
    const none = JSON.parse((await runCli(['explain', '--config', config, '--json', 'GET', '/elsewhere'])).stdout);
    expect(none).toMatchObject({ route: 'default', backend: 'legacy', placement: 'fixed' });
  });

  it('says what is wrong with its arguments', async () => {
    const r = await runCli(['explain', '--config', config, 'GET']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/usage: switchyard explain/);
    expect((await runCli(['frobnicate'])).code).toBe(2);
    const nofile = await runCli(['rules', 'validate', '/nonexistent.yaml', '--config', config]);
    expect(nofile).toMatchObject({ code: 1, stderr: 'switchyard: no such file: /nonexistent.yaml\n' });
  });
});
