import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../src/config/gateway-config.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { ADMIN_TOKEN, adminAuth, silentLogger, startGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { runCli } from '../helpers/process.js';
import { freePort } from '../helpers/redis.js';
import { echoBackend, json, send, type TestServer } from '../helpers/servers.js';

const RULES = 'default: legacy\nroutes:\n  - { name: api, match: { path: "/api/**" }, backend: legacy, shadow: {} }\n';

describe('admin listener access', () => {
  let legacy: TestServer;
  let pipeline: TestServer;
  let g: TestGateway;
  let publicUrl: string;

  beforeAll(async () => {
    legacy = await echoBackend('legacy');
    pipeline = await echoBackend('pipeline');
    g = await startGateway({ backends: { legacy: legacy.url, pipeline: pipeline.url }, rules: RULES, admin: 'public_listen: "127.0.0.1:0"' });
    publicUrl = `http://127.0.0.1:${g.gw.publicAdminPort}`;
    await send(`${g.url}/api/x`);
    // The comparison finishes after the answer: wait until the report has it.
    for (let i = 0; i < 200 && !(await send(`${g.admin}/diffs`, { headers: adminAuth })).body.includes('"route": "api"'); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
  });
  afterAll(async () => {
    await g.stop();
    await legacy.close();
    await pipeline.close();
  });

  it('answers /diffs (request samples) only with the admin token', async () => {
    const none = await send(`${g.admin}/diffs`);
    expect(none.status).toBe(401);
    expect(json(none)).toMatchObject({ code: 'SWY_ERR_ADMIN_UNAUTHORIZED', error: 'unauthorized' });
    expect((await send(`${g.admin}/diffs`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await send(`${g.admin}/diffs`, { headers: { authorization: ADMIN_TOKEN } })).status).toBe(401);
    const ok = await send(`${g.admin}/diffs`, { headers: adminAuth });
    expect(ok.status).toBe(200);
    expect(json<{ routes: { route: string }[] }>(ok).routes[0]!.route).toBe('api');
  });

  it('keeps /healthz, /readyz and /metrics open on the admin listener', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await send(g.admin + path)).status, path).toBe(200);
  });

  it('serves only /healthz, /readyz and /metrics on admin.public_listen', async () => {
    expect(g.gw.publicAdminPort).toBeGreaterThan(0);
    expect(g.gw.publicAdminPort).not.toBe(g.gw.adminPort);
    expect(json(await send(`${publicUrl}/healthz`))).toEqual({ status: 'ok' });
    expect(json(await send(`${publicUrl}/readyz`))).toMatchObject({ ready: true, source: 'file' });
    const metrics = await send(`${publicUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^switchyard_requests_total\{/m);
    // Not even with the token: what is not public is not there.
    for (const path of ['/diffs', '/rules']) expect((await send(publicUrl + path, { headers: adminAuth })).status, path).toBe(404);
    expect((await send(`${publicUrl}/rules`, { method: 'PUT', headers: adminAuth, body: RULES })).status).toBe(404);
  });

  it('`switchyard diffs` sends the token from --token, SWITCHYARD_ADMIN_TOKEN or admin.token', async () => {
    const viaFlag = await runCli(['diffs', '--admin', g.admin, '--token', ADMIN_TOKEN, '--json']);
    expect(viaFlag.code).toBe(0);
    expect(JSON.parse(viaFlag.stdout).routes[0].route).toBe('api');
    expect((await runCli(['diffs', '--admin', g.admin], { SWITCHYARD_ADMIN_TOKEN: ADMIN_TOKEN })).stdout).toMatch(/^route api: 1 comparisons/m);
    // Neither flag nor environment: the token of the gateway's config file.
    const viaConfig = await runCli(['diffs', '--admin', g.admin, '--config', join(g.dir, 'gateway.yaml')], { SWITCHYARD_ADMIN_TOKEN: '' });
    expect(viaConfig).toMatchObject({ code: 0, stderr: '' });
    expect(viaConfig.stdout).toMatch(/^route api: 1 comparisons/m);
  });

  it('`switchyard diffs` without the right token fails in one line', async () => {
    const r = await runCli(['diffs', '--admin', g.admin, '--token', 'wrong']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^switchyard: GET \/diffs on http:\/\/127\.0\.0\.1:\d+ answered 401: .*check --token, SWITCHYARD_ADMIN_TOKEN or admin\.token in the config\)\n$/);
    const down = await runCli(['diffs', '--admin', `http://127.0.0.1:${await freePort()}`, '--token', 'x']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^switchyard: cannot reach the admin listener at http:\/\/127\.0\.0\.1:\d+ \(connection refused\): is the gateway running\?.*\n$/);
  });
});

describe('admin listener without a token', () => {
  it('refuses /diffs with 401 saying to set admin.token', async () => {
    const legacy = await echoBackend('legacy');
    const dir = tempDir();
    writeFileSync(join(dir, 'rules.yaml'), 'default: legacy\n');
    const text = `listen: "127.0.0.1:0"\nadmin: { listen: "127.0.0.1:0" }\nbackends:\n  legacy: { url: "${legacy.url}" }\nrules: { file: rules.yaml }\n`;
    writeFileSync(join(dir, 'gateway.yaml'), text);
    const gw = await Gateway.start(parseGatewayConfig(text, join(dir, 'gateway.yaml'), {}), { logger: silentLogger() });
    try {
      const admin = `http://127.0.0.1:${gw.adminPort}`;
      expect(gw.publicAdminPort).toBeUndefined();
      const r = await send(`${admin}/diffs`, { headers: { authorization: 'Bearer anything' } });
      expect(r.status).toBe(401);
      expect(json<{ code: string; message: string }>(r)).toMatchObject({ code: 'SWY_ERR_ADMIN_UNAUTHORIZED', message: expect.stringContaining('set admin.token') });
      expect((await send(`${admin}/healthz`)).status).toBe(200);
      const cli = await runCli(['diffs', '--admin', admin, '--config', join(dir, 'gateway.yaml')], { SWITCHYARD_ADMIN_TOKEN: '' });
      expect(cli.code).toBe(1);
      expect(cli.stderr).toMatch(/^switchyard: GET \/diffs .* answered 401: no admin token is configured: set admin\.token/);
    } finally {
      await gw.stop(0);
      await legacy.close();
    }
  });
});

describe('the in-process pipeline\'s shadow listener', () => {
  it('listens on backends.NAME.shadow_listen and receives the shadow copies there', async () => {
    const legacy = await echoBackend('legacy');
    const origin = await echoBackend('origin');
    const dir = tempDir();
    const port = await freePort();
    writeFileSync(join(dir, 'products.yaml'), `origin: { url: "${origin.url}" }\n`);
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    const text = `listen: "127.0.0.1:0"
admin: { listen: "127.0.0.1:0", token: "${ADMIN_TOKEN}" }
backends:
  legacy: { url: "${legacy.url}" }
  pipeline: { inprocess: true, products: products.yaml, shadow_listen: "127.0.0.1:${port}" }
rules: { file: rules.yaml }
shadow: { samples: { file: samples.jsonl } }
`;
    writeFileSync(join(dir, 'gateway.yaml'), text);
    const gw = await Gateway.start(parseGatewayConfig(text, join(dir, 'gateway.yaml'), {}), { logger: silentLogger() });
    try {
      expect(gw.runtime.backends.get('pipeline')!.config.url.toString()).toBe(`http://127.0.0.1:${port}/`);
      // The pipeline answers there itself: through its products to the origin.
      expect(json(await send(`http://127.0.0.1:${port}/direct`))).toMatchObject({ backend: 'origin', url: '/direct' });
      expect(json(await send(`http://127.0.0.1:${gw.port}/api/a`))).toMatchObject({ backend: 'legacy' });
      const admin = `http://127.0.0.1:${gw.adminPort}`;
      type Report = { routes: { route: string; results: Record<string, number> }[] };
      await expect.poll(async () => json<Report>(await send(`${admin}/diffs`, { headers: adminAuth })).routes[0]?.results.mismatch ?? 0).toBe(1);
      const results = json<Report>(await send(`${admin}/diffs`, { headers: adminAuth })).routes[0]!.results;
      expect(results).toMatchObject({ shadow_error: 0, shadow_timeout: 0 });
    } finally {
      await gw.stop(0);
      await legacy.close();
      await origin.close();
    }
  });

  it('refuses to start when the shadow_listen port is taken, naming the address', async () => {
    const taken = await echoBackend('taken');
    const dir = tempDir();
    writeFileSync(join(dir, 'products.yaml'), `origin: { url: "${taken.url}" }\n`);
    writeFileSync(join(dir, 'rules.yaml'), 'default: pipeline\n');
    const text = `listen: "127.0.0.1:0"\nadmin: { listen: "127.0.0.1:0" }\nbackends:\n  pipeline: { inprocess: true, products: products.yaml, shadow_listen: "127.0.0.1:${taken.port}" }\nrules: { file: rules.yaml }\n`;
    try {
      await expect(Gateway.start(parseGatewayConfig(text, join(dir, 'gateway.yaml'), {}), { logger: silentLogger() })).rejects.toThrow(new RegExp(`EADDRINUSE.*127\\.0\\.0\\.1:${taken.port}`));
    } finally {
      await taken.close();
    }
  });
});
