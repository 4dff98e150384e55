/**
 * Plain listeners: h2c (HTTP/2 with prior knowledge) beside HTTP/1.1 on one port, Upgrade
 * headers other than WebSocket served as plain requests, a graceful stop with HTTP/2
 * connections open, and HTTP/2 into the in-process pipeline. Real clients: curl, node:http2.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../src/config/gateway-config.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { createLogger } from '../../src/log/logger.js';
import { silentLogger, startGateway, type TestGateway, tempDir } from '../helpers/gateway.js';
import { curl, h2Request, jsonLines, recorder, recordingBackend } from '../helpers/http2.js';
import { startServer, type TestServer } from '../helpers/servers.js';

const rec = recorder();
const { last } = rec;

describe('plain listeners: h2c and Upgrade', () => {
  let legacy: TestServer;
  let g: TestGateway;
  let plain: number;
  let h2c: number;
  const { sink, lines } = jsonLines();
  const access = () => lines.filter((l) => l.kind === 'access');

  beforeAll(async () => {
    legacy = await recordingBackend('legacy', rec);
    g = await startGateway({
      backends: { legacy: legacy.url },
      listen: 'listen:\n  - "127.0.0.1:0"\n  - { address: "127.0.0.1:0", h2c: true }',
      rules: 'default: legacy\n',
      options: { logger: createLogger('info', sink) },
    });
    [plain, h2c] = g.gw.ports as [number, number];
  });

  afterAll(async () => {
    await g?.stop();
    await legacy?.close();
  });

  describe('h2c (prior knowledge) beside HTTP/1.1 on a plain listener', () => {
    it('serves curl --http2-prior-knowledge over HTTP/2 and plain curl over HTTP/1.1 on the same port', async () => {
      const h2 = await curl(['--http2-prior-knowledge', `http://127.0.0.1:${h2c}/h2c`]);
      expect(h2).toMatchObject({ status: 200, version: '2' });
      expect(last('/h2c').headers['x-forwarded-proto']).toBe('http');
      const h1 = await curl(['--http1.1', `http://127.0.0.1:${h2c}/h2c-h1`]);
      expect(h1).toMatchObject({ status: 200, version: '1.1' });
    });

    it('serves node:http2 over h2c', async () => {
      const session = connect(`http://127.0.0.1:${h2c}`);
      try {
        const r = await h2Request(session, { ':path': '/h2c-node', ':method': 'POST' }, ['a', 'b']);
        expect(r.status).toBe(200);
        expect(JSON.parse(r.body)).toMatchObject({ body: 'ab' });
      } finally {
        session.close();
      }
      await expect.poll(() => access().find((l) => l.path === '/h2c-node')).toMatchObject({ protocol: 'HTTP/2.0' });
    });

    it('answers curl --http2 (Upgrade: h2c) over HTTP/1.1: the upgrade is not offered', async () => {
      const r = await curl(['--http2', `http://127.0.0.1:${h2c}/upgrade-h2c-on`]);
      expect(r).toMatchObject({ status: 200, version: '1.1' });
    });
  });

  describe('Upgrade headers on a plain listener without h2c', () => {
    it('serves curl --http2 (Upgrade: h2c) as HTTP/1.1 instead of closing the connection', async () => {
      const r = await curl(['--http2', `http://127.0.0.1:${plain}/upgrade-h2c`]);
      expect(r).toMatchObject({ status: 200, version: '1.1' });
      expect(JSON.parse(r.body)).toMatchObject({ url: '/upgrade-h2c' });
    });

    it('serves any non-WebSocket Upgrade as a plain request, keeps the connection, forwards no upgrade', async () => {
      // A client that offers an upgrade waits for the answer before it sends more on the
      // connection; the second request goes on the same connection once the first is answered.
      const sock = netConnect(plain, '127.0.0.1');
      let text = '';
      sock.on('data', (c: Buffer) => {
        text += c.toString('latin1');
        if (text.includes('/upgrade-other') && !text.includes('/upgrade-next')) sock.write('GET /upgrade-next HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      sock.write(
        'GET /upgrade-other HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: foo/2, h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n',
      );
      try {
        await expect.poll(() => text.match(/HTTP\/1\.1 200 /g)?.length ?? 0).toBe(2);
      } finally {
        sock.destroy();
      }
      expect(text).not.toMatch(/HTTP\/1\.1 101/);
      const s = last('/upgrade-other');
      expect(s.headers.upgrade).toBeUndefined();
      expect(s.headers['http2-settings']).toBeUndefined();
      expect(last('/upgrade-next')).toBeDefined();
    });
  });
});

describe('graceful stop with HTTP/2 connections', () => {
  it('sends GOAWAY, lets the open stream finish, and stops', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let held = 0;
    const slow = await startServer((req, res) => {
      held++;
      req.resume();
      void released.then(() => res.end('finished'));
    });
    const g = await startGateway({ backends: { legacy: slow.url }, rules: 'default: legacy\n', listen: 'listen: { address: "127.0.0.1:0", h2c: true }' });
    const session = connect(`http://127.0.0.1:${g.gw.port}`);
    try {
      let goaway = false;
      session.on('goaway', () => (goaway = true));
      const answer = h2Request(session, { ':path': '/held' });
      await expect.poll(() => held).toBe(1);
      const stopped = g.gw.stop(10_000);
      await expect.poll(() => goaway).toBe(true);
      release();
      expect(await answer).toMatchObject({ status: 200, body: 'finished' });
      await stopped;
    } finally {
      session.destroy();
      await g.stop();
      await slow.close();
    }
  });
});

describe('HTTP/2 into the in-process pipeline', () => {
  it('runs the pipeline: origin requests without pseudo-headers, response rules, local replies', async () => {
    const origin = await recordingBackend('origin', rec);
    const dir = tempDir();
    const products = readFileSync('test/conformance/products.yaml', 'utf8').replace('http://127.0.0.1:9', origin.url);
    writeFileSync(join(dir, 'products.yaml'), products);
    writeFileSync(join(dir, 'rules.yaml'), 'default: pipeline\n');
    const text = [
      'listen: { address: "127.0.0.1:0", h2c: true }',
      `state_dir: "${join(dir, 'state')}"`,
      'admin: { listen: "127.0.0.1:0" }',
      'backends:\n  pipeline: { inprocess: true, products: products.yaml }',
      'rules: { file: rules.yaml }',
    ].join('\n');
    const file = join(dir, 'gateway.yaml');
    writeFileSync(file, text);
    const gw = await Gateway.start(parseGatewayConfig(text, file, {}), { logger: silentLogger() });
    const session = connect(`http://127.0.0.1:${gw.port}`);
    try {
      const r = await h2Request(session, { ':path': '/api/h2-pipeline', ':method': 'POST' }, ['through ', 'the pipeline']);
      expect(r.status).toBe(200);
      expect(r.headers['x-frame-options']).toBe('DENY'); // a response header rule ran
      const s = last('/api/h2-pipeline');
      expect(s).toMatchObject({ backend: 'origin', version: '1.1', body: 'through the pipeline' });
      expect(s.headers['x-edge']).toBe('switchyard'); // a request header rule ran
      expect(s.headers.host).toBe(`127.0.0.1:${gw.port}`);
      expect(Object.keys(s.headers).filter((k) => k.startsWith(':'))).toEqual([]);
      // The same over HTTP/1.1 with a chunked body (a body of unknown length either way).
      const h1 = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`http://127.0.0.1:${gw.port}/api/h1-pipeline`, { method: 'POST', agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.write('chunked ');
        req.end('over h1');
      });
      expect(h1).toBe(200);
      expect(last('/api/h1-pipeline')).toMatchObject({ body: 'chunked over h1' });
      // Local replies of the pipeline's modules: a redirect and a WAF block.
      const redirect = await h2Request(session, { ':path': '/find' });
      expect(redirect.status).toBe(308);
      expect(redirect.headers.location).toBe('/api/search');
      expect((await h2Request(session, { ':path': '/api/x', 'x-attack': '1' })).status).toBe(403);
    } finally {
      session.close();
      await gw.stop(500);
      await origin.close();
    }
  });
});
