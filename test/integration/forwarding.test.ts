import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { echoBackend, json, send, startServer, type TestServer } from '../helpers/servers.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

describe('forwarding', () => {
  let legacy: TestServer;
  let slow: TestServer;
  let closer: TestServer;
  let refusedPort: number;
  let blackhole: NetServer;
  let wss: WebSocketServer;
  let wsPort: number;
  let g: TestGateway;
  const aborted: string[] = [];

  beforeAll(async () => {
    legacy = await echoBackend('legacy');
    slow = await startServer((req, res) => {
      req.resume();
      req.on('close', () => aborted.push(req.url ?? ''));
      if (req.url === '/slow-headers') setTimeout(() => res.end('late'), 5000).unref();
      else {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first part ');
        setTimeout(() => res.end('never'), 5000).unref();
      }
    });
    closer = await startServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-length': '1000' });
      res.write('only a little');
      setTimeout(() => res.socket?.destroy(), 50);
    });
    // A port that refuses: bind, note, close.
    const tmp = await startServer(() => undefined);
    refusedPort = tmp.port;
    await tmp.close();
    // Accepts TCP but never answers, to make connect succeed and the response time out.
    blackhole = createNetServer(() => undefined);
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((r) => wss.once('listening', r));
    wsPort = (wss.address() as { port: number }).port;
    wss.on('connection', (ws, req) => ws.on('message', (m) => ws.send(`echo:${m.toString()}:${req.headers['x-switchyard-route']}`)));

    g = await startGateway({
      backends: {
        legacy: legacy.url,
        slow: slow.url,
        closer: closer.url,
        refused: `http://127.0.0.1:${refusedPort}`,
        blackhole: `http://127.0.0.1:${(blackhole.address() as { port: number }).port}`,
        ws: `http://127.0.0.1:${wsPort}`,
      },
      rules: `default: legacy
routes:
  - { name: slow, match: { path: "/slow-headers" }, backend: slow }
  - { name: slow-body, match: { path: "/slow-body" }, backend: slow }
  - { name: closer, match: { path: "/closer" }, backend: closer }
  - { name: refused, match: { path: "/refused" }, backend: refused }
  - { name: blackhole, match: { path: "/blackhole" }, backend: blackhole }
  - { name: ws, match: { path: "/ws/**" }, backend: ws }
`,
    });
  });
  afterAll(async () => {
    await g.stop();
    await Promise.all([legacy.close(), slow.close(), closer.close()]);
    blackhole.close();
    wss.close();
  });

  it('answers 502 with a JSON body naming the backend when the backend refuses', async () => {
    const r = await send(g.url + '/refused');
    expect(r.status).toBe(502);
    expect(json(r)).toMatchObject({ error: 'refused', code: 'SWY_ERR_UPSTREAM_REFUSED', backend: 'refused' });
  });

  it('answers 504 when the backend does not answer in time', async () => {
    const r = await send(g.url + '/slow-headers');
    expect(r.status).toBe(504);
    expect(json(r)).toMatchObject({ error: 'response_timeout', backend: 'slow' });
    const b = await send(g.url + '/blackhole');
    expect(b.status).toBe(504);
    expect(json(b)).toMatchObject({ backend: 'blackhole' });
  });

  it('cuts the client connection when the backend stalls mid-body, and counts it', async () => {
    await expect(send(g.url + '/slow-body')).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
  });

  it('cuts the client connection when the backend closes mid-response, and keeps serving', async () => {
    await expect(send(g.url + '/closer')).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
    expect((await send(g.url + '/still-fine')).status).toBe(200);
    const metrics = (await send(g.admin + '/metrics')).body;
    expect(metrics).toMatch(/switchyard_upstream_errors_total\{backend="refused",reason="refused"\} 1/);
    expect(metrics).toMatch(/switchyard_upstream_errors_total\{backend="closer",reason="reset"\} 1/);
    expect(metrics).toMatch(/switchyard_upstream_errors_total\{backend="slow",reason="response_timeout"\} [12]/);
  });

  it('cancels the upstream request when the client goes away', async () => {
    await new Promise<void>((resolve) => {
      const req = request(g.url + '/slow-body', { agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.end();
    });
    await expect.poll(() => aborted.filter((u) => u === '/slow-body').length, { timeout: 3000 }).toBeGreaterThanOrEqual(2);
  });

  it('streams a POST body and echoes it', async () => {
    const body = 'x'.repeat(200_000);
    const r = await send(g.url + '/echo', { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    expect(json<{ body: string }>(r).body).toBe(body);
  });

  it('proxies a WebSocket upgrade and echoes messages', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${g.gw.port}/ws/chat`);
    const got = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('hello'));
      ws.once('message', (m) => resolve(m.toString()));
      ws.once('error', reject);
    });
    ws.close();
    expect(got).toBe('echo:hello:ws');
  });
});

describe('informational responses', () => {
  it('passes on the final response after a 103 Early Hints', async () => {
    const backend = await startServer((req, res) => {
      req.resume();
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('final');
    });
    const g = await startGateway({ backends: { legacy: backend.url }, rules: 'default: legacy\n' });
    try {
      const r = await send(g.url + '/x');
      expect(r.status).toBe(200);
      expect(r.body).toBe('final');
    } finally {
      await g.stop();
      await backend.close();
    }
  });
});
