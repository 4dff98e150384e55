import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuleStore } from '../../src/store/rule-store.js';
import { gatewayYaml, startGateway, type TestGateway, tempDir } from '../helpers/gateway.js';
import { CLI, runCli } from '../helpers/process.js';
import { freePort, TestRedis } from '../helpers/redis.js';
import { echoBackend, type TestServer } from '../helpers/servers.js';

const RULES = 'default: legacy\nroutes:\n  - { name: api, match: { path: "/api/**" }, split: { legacy: 50, pipeline: 50 }, sticky: "header:x-user-id" }\n';

/** Runs a shell pipeline with pipefail: its exit status is the first failing command's. */
function sh(script: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', script], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('CLI habits', () => {
  let redis: TestRedis;
  let legacy: TestServer;
  let pipeline: TestServer;
  let dir: string;
  let config: string;
  const env = () => ({ SWITCHYARD_REDIS_URL: redis.url });

  beforeAll(async () => {
    redis = await TestRedis.start();
    legacy = await echoBackend('legacy');
    pipeline = await echoBackend('pipeline');
    dir = tempDir();
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    writeFileSync(join(dir, 'bad.yaml'), 'default: legacy\nroutes:\n  - name: x\n    split: { legacy: 10 }\n');
    config = join(dir, 'gateway.yaml');
    writeFileSync(config, gatewayYaml({ backends: { legacy: legacy.url, pipeline: pipeline.url }, rules: '' }, join(dir, 'rules.yaml')));
  });
  afterAll(async () => {
    await legacy.close();
    await pipeline.close();
    await redis.stop();
  });

  it('has --help on every command and subcommand (usage on stdout, exit 0)', async () => {
    const forms = [
      ['gateway'],
      ['rules'],
      ['rules', 'validate'],
      ['rules', 'push'],
      ['rules', 'show'],
      ['rules', 'history'],
      ['rules', 'diff'],
      ['rules', 'rollback'],
      ['explain'],
      ['diffs'],
      ['legacy'],
      ['pipeline'],
      ['products'],
      ['products', 'validate'],
    ];
    const results = await Promise.all(forms.map((f) => runCli([...f, '--help'])));
    results.forEach((r, i) => {
      expect(r, forms[i]!.join(' ')).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout, forms[i]!.join(' ')).toMatch(new RegExp(`^usage: switchyard ${forms[i]!.join(' ')}\\b`));
    });
    // A subcommand's help shows that subcommand, not its siblings.
    expect(results[3]!.stdout).not.toMatch(/rules history/);
    expect((await runCli(['help', 'pipeline'])).stdout).toMatch(/^usage: switchyard pipeline /);
    expect((await runCli(['rules', 'push', 'x.yaml', '-h'])).stdout).toMatch(/^usage: switchyard rules push FILE/);
  }, 120_000); // 16 Node processes: slow on a busy 2-core machine

  it('`rules validate` and `products validate` print ok, or with --json the result as JSON', async () => {
    expect(await runCli(['rules', 'validate', join(dir, 'rules.yaml'), '--config', config])).toEqual({ code: 0, stdout: 'ok\n', stderr: '' });
    const bad = await runCli(['rules', 'validate', join(dir, 'bad.yaml'), '--config', config, '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toEqual({
      ok: false,
      code: 'SWY_ERR_CONFIG_INVALID',
      errors: [{ file: join(dir, 'bad.yaml'), line: 4, col: 12, path: 'routes[0].split', message: 'weights sum to 10, not 100' }],
    });
    expect(JSON.parse((await runCli(['rules', 'validate', join(dir, 'rules.yaml'), '--config', config, '--json'])).stdout)).toEqual({
      ok: true,
      file: join(dir, 'rules.yaml'),
    });
    expect(await runCli(['products', 'validate', 'config/products.yaml'])).toEqual({ code: 0, stdout: 'ok\n', stderr: '' });
  });

  it('says in one line when Redis cannot be reached, naming the URL and what to check', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const expected = `switchyard: cannot reach Redis at ${url} (connection refused): check --redis, SWITCHYARD_REDIS_URL or rules.redis.url in the config\n`;
    for (const args of [
      ['rules', 'history'],
      ['rules', 'show'],
      ['rules', 'push', join(dir, 'rules.yaml')],
    ]) {
      expect(await runCli([...args, '--redis', url, '--config', config]), args.join(' ')).toEqual({ code: 1, stdout: '', stderr: expected });
    }
    // From the gateway config: the message names the file to fix.
    const fromConfig = join(dir, 'down.yaml');
    writeFileSync(
      fromConfig,
      gatewayYaml(
        { backends: { legacy: legacy.url }, rules: '', rulesBlock: (f) => `rules:\n  file: "${f}"\n  redis: { url: "${url.replace('//', '//:hunter2@')}" }` },
        join(dir, 'rules.yaml'),
      ),
    );
    const r = await runCli(['rules', 'history', '--config', fromConfig], { SWITCHYARD_REDIS_URL: '' });
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe(
      `switchyard: cannot reach Redis at ${url.replace('//', '//:***@')} (connection refused): check --redis, SWITCHYARD_REDIS_URL or rules.redis.url in ${fromConfig}\n`,
    );
  });

  it('exits 0 without a stack trace when the reader of its output goes away (`rules history | head -1`)', async () => {
    // More than a pipe buffer (64 KiB) of history, so that writing really meets the closed pipe.
    const client = redis.client();
    const store = new RuleStore(client, 'epipe:', 100);
    for (let i = 1; i <= 100; i++) await store.push(RULES, { author: 'test', message: `${'m'.repeat(2000)} ${i}` });
    client.disconnect();
    const r = await sh(`"${process.execPath}" "${CLI}" rules history --prefix epipe: --config "${config}" | head -1`, env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\*\s+100 .* m{2000} 100\n$/);
    // The same command whole: it is the pipe that was cut, not the output.
    expect((await runCli(['rules', 'history', '--prefix', 'epipe:', '--config', config], env())).stdout.length).toBeGreaterThan(200_000);
  });

  describe('rules push', () => {
    let g: TestGateway | undefined;
    afterAll(async () => {
      await g?.stop();
    });

    it('prints the version pushed and the one replaced, and warns when no gateway reads the prefix', async () => {
      const first = await runCli(['rules', 'push', join(dir, 'rules.yaml'), '--prefix', 'shop:', '--config', config], env());
      expect(first).toMatchObject({ code: 0, stdout: 'pushed version 1 (was 0) to shop:\n' });
      expect(first.stderr).toBe(
        "switchyard: warning: no gateway has read shop: in the last minute: check --prefix, and rules.redis (url and prefix) in the gateways' config\n",
      );

      // A gateway reading shop: records its reads in shop:{rules}:readers.
      g = await startGateway({
        backends: { legacy: legacy.url, pipeline: pipeline.url },
        rules: RULES,
        rulesBlock: (f) => `rules:\n  file: "${f}"\n  redis: { url: "${redis.url}", prefix: "shop:", snapshot: snapshot.json }`,
      });
      const client = redis.client();
      await expect.poll(() => client.hkeys('shop:{rules}:readers')).toEqual([`${hostname()}:${process.pid}`]);
      client.disconnect();

      const second = await runCli(['rules', 'push', join(dir, 'rules.yaml'), '-m', 'again', '--prefix', 'shop:', '--config', config], env());
      expect(second).toEqual({ code: 0, stdout: 'pushed version 2 (was 1) to shop:\n', stderr: '' });
      const json = await runCli(['rules', 'push', join(dir, 'rules.yaml'), '--prefix', 'shop:', '--config', config, '--json'], env());
      expect(json.stderr).toBe('');
      expect(JSON.parse(json.stdout)).toEqual({ ok: true, version: 3, previous: 2, prefix: 'shop:', readers: 1 });

      // Another prefix, that no gateway reads, still warns.
      const elsewhere = await runCli(['rules', 'push', join(dir, 'rules.yaml'), '--prefix', 'shpo:', '--config', config], env());
      expect(elsewhere.stdout).toBe('pushed version 1 (was 0) to shpo:\n');
      expect(elsewhere.stderr).toMatch(/^switchyard: warning: no gateway has read shpo: in the last minute/);
    });

    it('answers in JSON for scripts: push conflicts, show, history and rollback', async () => {
      const conflict = await runCli(
        ['rules', 'push', join(dir, 'rules.yaml'), '--expect-version', '1', '--prefix', 'shop:', '--config', config, '--json'],
        env(),
      );
      expect(conflict.code).toBe(1);
      expect(JSON.parse(conflict.stdout)).toMatchObject({ ok: false, code: 'SWY_ERR_RULES_VERSION_CONFLICT', expected_version: 1, active_version: 3 });
      expect(JSON.parse((await runCli(['rules', 'show', '--prefix', 'shop:', '--config', config, '--json'], env())).stdout)).toMatchObject({
        version: 3,
        yaml: RULES,
      });
      const history = JSON.parse((await runCli(['rules', 'history', '--prefix', 'shop:', '--config', config, '--json'], env())).stdout) as {
        version: number;
        active: boolean;
      }[];
      expect(history.map((h) => [h.version, h.active])).toEqual([
        [3, true],
        [2, false],
        [1, false],
      ]);
      const rb = await runCli(['rules', 'rollback', '--to', '2', '--prefix', 'shop:', '--config', config], env());
      expect(rb).toEqual({ code: 0, stdout: 'rolled back to version 2: pushed version 4 (was 3) to shop:\n', stderr: '' });
      const rbJson = JSON.parse((await runCli(['rules', 'rollback', '--prefix', 'shop:', '--config', config, '--json'], env())).stdout);
      expect(rbJson).toEqual({ ok: true, version: 5, previous: 4, prefix: 'shop:', readers: 1, rolled_back_to: 3 });
    });
  });
});
