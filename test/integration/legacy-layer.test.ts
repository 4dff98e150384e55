import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateLegacyConfig, testNginxConfig } from '../../src/legacy/legacy-layer.js';
import { loadProducts } from '../../src/products/products-config.js';
import { startDemoOrigin } from '../../scripts/demo-origin.js';
import { tempDir } from '../helpers/gateway.js';
import { freePort } from '../helpers/redis.js';
import { CLI, runCli } from '../helpers/process.js';
import { send } from '../helpers/servers.js';

describe('legacy layer', () => {
  it('generates an nginx config from config/products.yaml that nginx -t accepts', () => {
    const prefix = tempDir('switchyard-legacy-');
    const conf = generateLegacyConfig({ products: loadProducts('config/products.yaml'), listen: { host: '127.0.0.1', port: 18999 }, prefix }, resolve('.'));
    expect(testNginxConfig(conf, prefix)).toMatchObject({ ok: true });
    const products = JSON.parse(readFileSync(join(prefix, 'products.json'), 'utf8'));
    expect(products.waf.map((w: { id: string }) => w.id)).toEqual(['1001', '1002', '1003', '1004']);
  });

  it('runs with `switchyard legacy` against a given origin and port, and stops cleanly', async () => {
    const origin = await startDemoOrigin();
    const port = await freePort();
    const prefix = tempDir('switchyard-legacy-');
    const child = spawn(process.execPath, [CLI, 'legacy', '--products', 'config/products.yaml', '--origin', origin.url, '--listen', `127.0.0.1:${port}`, '--prefix', prefix], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      await expect.poll(() => err, { timeout: 10_000 }).toMatch(/legacy layer on http:\/\/127\.0\.0\.1:\d+/);
      const r = await send(`http://127.0.0.1:${port}/api/catalog/2`);
      expect(r.status).toBe(200);
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(existsSync(join(prefix, 'nginx.pid'))).toBe(true);
      const exited = new Promise<number | null>((r2) => child.once('exit', r2));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(existsSync(join(prefix, 'nginx.pid'))).toBe(false); // nginx itself is gone too
    } finally {
      child.kill('SIGKILL');
      await origin.close();
    }
  });

  it('reports products.yaml errors with line and column before nginx starts', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.yaml'), 'origin: { url: "http://x:1" }\nwaf:\n  - { id: a, field: path, pattern: "a++" }\n');
    const v = await runCli(['products', 'validate', join(dir, 'bad.yaml')]);
    expect(v).toMatchObject({ code: 1, stderr: `${join(dir, 'bad.yaml')}:3:36: waf[0].pattern: "a++": possessive quantifiers: not portable between PCRE and RE2\n` });
    const l = await runCli(['legacy', '--products', join(dir, 'bad.yaml'), '--prefix', join(dir, 'p')]);
    expect(l.code).toBe(1);
    expect(l.stderr).toMatch(/bad\.yaml:3:36: waf\[0\]\.pattern/);
    expect(existsSync(join(dir, 'p', 'nginx.conf'))).toBe(false);
    expect((await runCli(['products', 'validate', 'config/products.yaml'])).code).toBe(0);
  });
});

describe('legacy layer restarts', () => {
  it('stops an nginx its killed launcher left behind in the same prefix before starting', async () => {
    const origin = await startDemoOrigin();
    const port = await freePort();
    const prefix = tempDir('switchyard-legacy-');
    const products = loadProducts('config/products.yaml');
    const { LegacyLayer } = await import('../../src/legacy/legacy-layer.js');
    const first = await LegacyLayer.start({ products, origin: { host: '127.0.0.1', port: origin.port }, listen: { host: '127.0.0.1', port }, prefix }, resolve('.'));
    const orphanPid = Number(readFileSync(join(prefix, 'nginx.pid'), 'utf8'));
    // As if the launcher had died: forget the child, keep nginx running.
    first.child.unref();
    const second = await LegacyLayer.start({ products, origin: { host: '127.0.0.1', port: origin.port }, listen: { host: '127.0.0.1', port }, prefix }, resolve('.'));
    try {
      expect(() => process.kill(orphanPid, 0)).toThrow();
      expect((await send(`http://127.0.0.1:${port}/api/catalog/1`)).status).toBe(200);
    } finally {
      await second.stop();
      await origin.close();
    }
  });
});
