/**
 * Issue 11 item 8: SIGHUP re-reads what a process was started from and never stops it: the
 * rules file, and the products file wherever products are served (the gateway's in-process
 * pipeline, `switchyard pipeline`, every worker of `--workers N`, and `switchyard legacy`, which
 * regenerates nginx's config, checks it and reloads nginx). A valid change shows in the next
 * requests, an invalid one is logged with FILE:LINE:COL and the old one keeps serving. SIGTERM
 * still drains and exits 0. Real processes throughout (the built CLI, nginx with Lua).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeGatewayFiles } from '../helpers/gateway.js';
import { metric } from '../helpers/metrics.js';
import { CLI, type GatewayProcess, spawnGateway, startGatewayProcess } from '../helpers/process.js';
import { freePort } from '../helpers/redis.js';
import { echoBackend, send, type TestServer, waitFor } from '../helpers/servers.js';

/** Products served by an origin, optionally with a WAF rule blocking /blocked. */
const products = (origin: string, extra = '') => `origin: { url: "${origin}" }\n${extra}`;
const BLOCKED = 'waf:\n  - { id: "9001", field: path, pattern: "^/blocked" }\n';
/** Valid YAML, invalid products: line 3, column 36 is the pattern. */
const INVALID = 'origin: { url: "http://127.0.0.1:1" }\nwaf:\n  - { id: a, field: path, pattern: "a++" }\n';
const INVALID_AT = (file: string) => `${file}:3:36: waf[0].pattern: "a++": possessive quantifiers: not portable between PCRE and RE2`;

/** The JSON log lines of a process whose `msg` is `msg`. */
const lines = (stderr: string, msg: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The pids of a process's children (nginx's master → its workers). */
const childrenOf = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

describe('signals: the gateway', () => {
  let legacy: TestServer;
  let pipeline: TestServer;
  let g: Awaited<ReturnType<typeof startGatewayProcess>>;

  beforeAll(async () => {
    legacy = await echoBackend('legacy');
    pipeline = await echoBackend('pipeline');
    g = await startGatewayProcess({
      backends: { legacy: legacy.url, pipeline: pipeline.url },
      rules: 'default: legacy\nroutes: []\n',
      // Not watched: only SIGHUP can make the gateway read the edit.
      rulesBlock: (file) => `rules:\n  file: "${file}"\n  watch: false`,
    });
  });
  afterAll(async () => {
    await g.stop();
    await legacy.close();
    await pipeline.close();
  });

  it('re-reads the rules file on SIGHUP, logs it, and keeps serving', async () => {
    expect((await send(g.url + '/x')).headers['x-served-by']).toBe('legacy');
    // Unchanged: said so, nothing applied.
    g.proc.child.kill('SIGHUP');
    await expect.poll(() => lines(g.stderr(), 'rules file unchanged').length, { timeout: 10_000 }).toBe(1);
    writeFileSync(g.rulesFile, 'default: pipeline\nroutes: []\n');
    g.proc.child.kill('SIGHUP');
    await expect.poll(async () => (await send(g.url + '/x')).headers['x-served-by'], { timeout: 10_000 }).toBe('pipeline');
    await expect.poll(() => g.stderr(), { timeout: 10_000 }).toMatch(/"signal":"SIGHUP".*"msg":"reloading"|"msg":"reloading".*"signal":"SIGHUP"/);
    // A second SIGHUP with an invalid file keeps the active rules and the process.
    writeFileSync(g.rulesFile, 'default: nowhere\n');
    g.proc.child.kill('SIGHUP');
    await expect.poll(() => g.stderr(), { timeout: 10_000 }).toMatch(/rules file invalid/);
    expect((await send(g.url + '/x')).headers['x-served-by']).toBe('pipeline');
    // The same invalid text again: reported again (a signal is always answered), not "unchanged".
    g.proc.child.kill('SIGHUP');
    await expect.poll(() => lines(g.stderr(), 'rules file invalid; keeping the active rules').length, { timeout: 10_000 }).toBe(2);
    expect(lines(g.stderr(), 'rules file unchanged')).toHaveLength(1);
    expect(g.proc.child.exitCode).toBeNull();
  });

  it('still stops on SIGTERM with exit code 0', async () => {
    g.proc.child.kill('SIGTERM');
    expect(await g.proc.exited).toBe(0);
  });
});

describe('signals: the in-process pipeline re-reads its products file', () => {
  let origin: TestServer;
  let legacy: TestServer;
  let dir: string;
  let productsFile: string;
  let g: Awaited<ReturnType<typeof startGatewayProcess>>;

  beforeAll(async () => {
    origin = await echoBackend('origin');
    legacy = await echoBackend('legacy');
    dir = tempDir('switchyard-hup-products-');
    productsFile = join(dir, 'products.yaml');
    writeFileSync(productsFile, products(origin.url));
    g = await startGatewayProcess({
      backends: { legacy: legacy.url, pipeline: `{ inprocess: true, products: "${productsFile}" }` },
      rules: 'default: pipeline\nroutes: []\n',
      rulesBlock: (file) => `rules:\n  file: "${file}"\n  watch: false`,
    });
  });
  afterAll(async () => {
    await g.stop();
    await origin.close();
    await legacy.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies a valid change on SIGHUP: the next request shows it', async () => {
    expect((await send(g.url + '/blocked')).status).toBe(200);
    writeFileSync(productsFile, products(origin.url, BLOCKED));
    g.proc.child.kill('SIGHUP');
    await expect.poll(async () => (await send(g.url + '/blocked')).status, { timeout: 10_000 }).toBe(403);
    // The log line travels through a pipe of its own: it may arrive after the response that shows the change.
    await expect
      .poll(() => lines(g.stderr(), 'products file reloaded'), { timeout: 10_000 })
      .toEqual([expect.objectContaining({ file: productsFile, result: 'applied', backend: 'pipeline' })]);
    expect(await metric(g.admin, 'switchyard_products_reloads_total', { result: 'applied' })).toBe(1);
    expect((await send(g.url + '/open')).status).toBe(200);
  });

  it('refuses an invalid file with FILE:LINE:COL in the log, and the old products keep serving', async () => {
    writeFileSync(productsFile, INVALID);
    g.proc.child.kill('SIGHUP');
    await expect
      .poll(() => lines(g.stderr(), 'products file invalid; keeping the active products'), { timeout: 10_000 })
      .toEqual([expect.objectContaining({ file: productsFile, result: 'invalid', errors: [INVALID_AT(productsFile)] })]);
    expect(await metric(g.admin, 'switchyard_products_reloads_total', { result: 'invalid' })).toBe(1);
    expect((await send(g.url + '/blocked')).status).toBe(403);
    expect((await send(g.url + '/open')).status).toBe(200);
    expect(g.proc.child.exitCode).toBeNull();
  });
});

describe('signals: `switchyard gateway --workers 2`', () => {
  let origin: TestServer;
  let legacy: TestServer;
  let dir: string;
  let p: GatewayProcess;
  let files: ReturnType<typeof writeGatewayFiles>;

  beforeAll(async () => {
    origin = await echoBackend('origin');
    legacy = await echoBackend('legacy');
    dir = tempDir('switchyard-hup-workers-');
    writeFileSync(join(dir, 'products.yaml'), products(origin.url));
    files = writeGatewayFiles({
      backends: { legacy: legacy.url, pipeline: `{ inprocess: true, products: "${join(dir, 'products.yaml')}" }` },
      rules: 'default: pipeline\nroutes: []\n',
      rulesBlock: (file) => `rules:\n  file: "${file}"\n  watch: false`,
    });
    p = await spawnGateway(files.configFile, ['--workers', '2', '--drain', '1']);
    await waitFor(() => lines(p.stderr(), 'worker ready').length === 2, 30_000, 'two workers');
  });
  afterAll(async () => {
    if (p.child.exitCode === null) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    await origin.close();
    await legacy.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(files.dir, { recursive: true, force: true });
  });

  it('passes SIGHUP to every worker, and each reloads its rules and products', async () => {
    writeFileSync(files.rulesFile, 'default: pipeline\nroutes:\n  - { name: old, match: { path: "/old/**" }, backend: legacy }\n');
    writeFileSync(join(dir, 'products.yaml'), products(origin.url, BLOCKED));
    p.child.kill('SIGHUP');
    const workersThat = (msg: string) => new Set(lines(p.stderr(), msg).map((l) => l.worker));
    await expect.poll(() => workersThat('rules file applied'), { timeout: 10_000 }).toEqual(new Set([1, 2]));
    await expect.poll(() => workersThat('products file reloaded'), { timeout: 10_000 }).toEqual(new Set([1, 2]));
    // Each request a new connection, spread over the workers: every one shows both changes.
    const answers = await Promise.all(
      Array.from({ length: 6 }, async () => [
        (await send(`http://127.0.0.1:${p.port}/blocked`)).status,
        (await send(`http://127.0.0.1:${p.port}/old/x`)).headers['x-served-by'],
      ]),
    );
    expect(new Set(answers.map((a) => a.join(' ')))).toEqual(new Set(['403 legacy']));
    expect(p.child.exitCode).toBeNull();
  });
});

/** Runs a CLI command that serves until SIGTERM; resolves once `ready` matches its stderr. */
async function serve(args: string[], ready: RegExp): Promise<{ child: ChildProcess; stderr: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await waitFor(() => ready.test(err) || child.exitCode !== null, 30_000, `${args[0]} to start`);
  if (child.exitCode !== null) throw new Error(`${args[0]} exited with ${child.exitCode}:\n${err}`);
  return { child, stderr: () => err, exited };
}

describe('signals: `switchyard pipeline`', () => {
  let origin: TestServer;
  let dir: string;
  let s: Awaited<ReturnType<typeof serve>>;
  let url: string;
  let admin: string;

  beforeAll(async () => {
    origin = await echoBackend('origin');
    dir = tempDir('switchyard-hup-pipeline-');
    writeFileSync(join(dir, 'products.yaml'), products(origin.url));
    writeFileSync(join(dir, 'pipeline.yaml'), 'listen: "127.0.0.1:0"\nadmin: { listen: "127.0.0.1:0" }\nproducts: products.yaml\nlog: { access: false }\n');
    s = await serve(['pipeline', '--config', join(dir, 'pipeline.yaml')], /"msg":"pipeline started"/);
    const started = lines(s.stderr(), 'pipeline started')[0]!;
    url = `http://127.0.0.1:${started.listen}`;
    admin = `http://127.0.0.1:${started.admin}`;
  });
  afterAll(async () => {
    s.child.kill('SIGKILL');
    await origin.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies a valid products change on SIGHUP and refuses an invalid one, serving on', async () => {
    const file = join(dir, 'products.yaml');
    expect((await send(url + '/blocked')).status).toBe(200);
    writeFileSync(file, products(origin.url, BLOCKED));
    s.child.kill('SIGHUP');
    await expect.poll(async () => (await send(url + '/blocked')).status, { timeout: 10_000 }).toBe(403);
    await expect.poll(() => lines(s.stderr(), 'products file reloaded'), { timeout: 10_000 }).toEqual([expect.objectContaining({ file, result: 'applied' })]);

    writeFileSync(file, INVALID);
    s.child.kill('SIGHUP');
    await expect
      .poll(() => lines(s.stderr(), 'products file invalid; keeping the active products'), { timeout: 10_000 })
      .toEqual([expect.objectContaining({ file, result: 'invalid', errors: [INVALID_AT(file)] })]);
    expect((await send(url + '/blocked')).status).toBe(403);
    expect(await metric(admin, 'switchyard_products_reloads_total', { result: 'applied' })).toBe(1);
    expect(await metric(admin, 'switchyard_products_reloads_total', { result: 'invalid' })).toBe(1);
    expect(s.child.exitCode).toBeNull();
  });

  it('still stops on SIGTERM with exit code 0', async () => {
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });
});

describe('signals: `switchyard legacy` reloads nginx', () => {
  let origin: TestServer;
  let dir: string;
  let file: string;
  let prefix: string;
  let url: string;
  let s: Awaited<ReturnType<typeof serve>>;
  const redirect = (to: string) => `redirects:\n  - { id: moved, from: "/moved", to: "${to}", status: 302 }\n`;
  const nginxPid = () => Number(readFileSync(join(prefix, 'nginx.pid'), 'utf8'));

  beforeAll(async () => {
    origin = await echoBackend('origin');
    dir = tempDir('switchyard-hup-legacy-');
    file = join(dir, 'products.yaml');
    prefix = join(dir, 'prefix');
    writeFileSync(file, products(origin.url, redirect('/first')));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // No --origin: the origin is the products file's, so that a reload can change it.
    s = await serve(['legacy', '--products', file, '--listen', `127.0.0.1:${port}`, '--prefix', prefix], /legacy layer on /);
  });
  afterAll(async () => {
    if (s.child.exitCode === null) {
      s.child.kill('SIGTERM');
      await s.exited;
    }
    await origin.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('regenerates the config, checks it, and reloads nginx (same master) on SIGHUP', async () => {
    expect((await send(url + '/moved')).headers.location).toBe('/first');
    const master = nginxPid();
    const oldWorkers = childrenOf(master);
    expect(oldWorkers.length).toBeGreaterThan(0);
    writeFileSync(file, products(origin.url, redirect('/second') + BLOCKED));
    s.child.kill('SIGHUP');
    // Until the old workers have gone, one of them may still accept a connection and answer on the
    // old config: wait for them to leave, then every answer is the new config's.
    await expect.poll(() => childrenOf(master).filter((pid) => oldWorkers.includes(pid)), { timeout: 10_000 }).toEqual([]);
    expect([(await send(url + '/moved')).headers.location, (await send(url + '/blocked')).status]).toEqual(['/second', 403]);
    await expect.poll(() => lines(s.stderr(), 'products file reloaded'), { timeout: 10_000 }).toEqual([expect.objectContaining({ file, result: 'applied' })]);
    expect(nginxPid()).toBe(master);
    expect(alive(master)).toBe(true);
  });

  it('refuses an invalid products file: logged, nginx keeps the old config, both processes alive', async () => {
    const conf = readFileSync(join(prefix, 'nginx.conf'), 'utf8');
    writeFileSync(file, INVALID);
    s.child.kill('SIGHUP');
    await expect
      .poll(() => lines(s.stderr(), 'products file invalid; keeping the active products'), { timeout: 10_000 })
      .toEqual([expect.objectContaining({ file, result: 'invalid', errors: [INVALID_AT(file)] })]);
    expect((await send(url + '/moved')).headers.location).toBe('/second');
    expect(readFileSync(join(prefix, 'nginx.conf'), 'utf8')).toBe(conf);
    expect(s.child.exitCode).toBeNull();
    expect(alive(nginxPid())).toBe(true);
  });

  it('refuses valid products that nginx -t rejects (an origin nginx cannot resolve), touching nothing', async () => {
    const conf = readFileSync(join(prefix, 'nginx.conf'), 'utf8');
    const json = readFileSync(join(prefix, 'products.json'), 'utf8');
    writeFileSync(file, products('http://no-such-origin.invalid:8080', redirect('/third')));
    s.child.kill('SIGHUP');
    await expect
      .poll(() => lines(s.stderr(), 'products file not applied; keeping the active products'), { timeout: 10_000 })
      .toEqual([
        expect.objectContaining({ file, result: 'error', error: expect.stringMatching(/^nginx -t refused the new config: .*no-such-origin\.invalid/s) }),
      ]);
    expect((await send(url + '/moved')).headers.location).toBe('/second');
    expect(readFileSync(join(prefix, 'nginx.conf'), 'utf8')).toBe(conf);
    expect(readFileSync(join(prefix, 'products.json'), 'utf8')).toBe(json);
    expect(existsSync(join(prefix, 'nginx.conf.next'))).toBe(false);
    expect(alive(nginxPid())).toBe(true);
  });

  it('still stops on SIGTERM with exit code 0, and nginx with it', async () => {
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(existsSync(join(prefix, 'nginx.pid'))).toBe(false);
  });
});
