import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerfile } from '../helpers/dockerfile.js';
import { gatewayYaml, tempDir } from '../helpers/gateway.js';
import { type GatewayProcess, spawnGateway } from '../helpers/process.js';

// What the image's HEALTHCHECK runs, with the config path it passes.
const [, script] = (() => {
  const hc = dockerfile('Dockerfile').instr('HEALTHCHECK')[0]!;
  return JSON.parse(hc.slice(hc.indexOf(' CMD ') + 5)) as string[];
})();

function healthcheck(config: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [resolve(script!), config], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('close', (code) => done({ code, stderr }));
  });
}

/** A port nobody listens on right now (the admin listener needs a fixed one: the config names it). */
function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

describe('the image healthcheck script', () => {
  let dir: string;
  let config: string;
  let env: Record<string, string>;
  let gw: GatewayProcess;

  beforeAll(async () => {
    dir = tempDir();
    config = join(dir, 'gateway.yaml');
    // As in the image: the admin address comes from SWITCHYARD_ADMIN_LISTEN through the config.
    const yaml = gatewayYaml({ backends: { legacy: 'http://127.0.0.1:9' }, rules: '' }, join(dir, 'rules.yaml'));
    writeFileSync(config, yaml.replace('admin:\n  listen: "127.0.0.1:0"', 'admin:\n  listen: "${SWITCHYARD_ADMIN_LISTEN}"'));
    writeFileSync(join(dir, 'rules.yaml'), 'default: legacy\n');
    env = { SWITCHYARD_ADMIN_LISTEN: `127.0.0.1:${await freePort()}` };
    gw = await spawnGateway(config, [], env);
  });

  afterAll(() => {
    gw?.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 against the admin port the config names', async () => {
    expect(gw.adminPort).toBe(Number(env.SWITCHYARD_ADMIN_LISTEN!.split(':')[1]));
    expect(await healthcheck(config, env)).toEqual({ code: 0, stderr: '' });
  });

  it('exits 1 when the config cannot be read, naming why', async () => {
    const r = await healthcheck(config, { SWITCHYARD_ADMIN_LISTEN: '' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/SWITCHYARD_ADMIN_LISTEN/);
  });

  it('exits 1 once the gateway is gone', async () => {
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
    const r = await healthcheck(config, env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^healthcheck: /);
  });
});
