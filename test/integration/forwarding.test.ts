import { request } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { metric } from '../helpers/metrics.js';
import { echoBackend, json, send, startServer, type TestServer } from '../helpers/servers.js';

describe('forwarding', () => {
  let legacy: TestServer;
  let slow: TestServer;
  let closer: TestServer;
  let refusedPort: number;
  let blackhole: NetServer;
  let garbage: NetServer;
  let wss: WebSocketServer;
  let wsPort: number;
  let g: TestGateway;
  const aborted: string[] = [];

  beforeAll(async () => {
    legacy = await echoBackend('legacy');
    // Never answers /slow-headers, never finishes /slow-body: the gateway's 1 s response
    // timeout is what ends them (the subject of those tests is that timeout).
    slow = await startServer((req, res) => {
      req.resume();
      req.on('close', () => aborted.push(req.url ?? ''));
      if (req.url !== '/slow-headers') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first part ');
      }
    });
    // Closes the connection once the start of a 1000-byte answer has left.
    closer = await startServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-length': '1000' });
      res.write('only a little', () => res.socket?.destroy());
    });
    // A port that refuses: bind, note, close.
    const tmp = await startServer(() => undefined);
    refusedPort = tmp.port;
    await tmp.close();
    // Accepts TCP but never answers, to make connect succeed and the response time out.
    blackhole = createNetServer(() => undefined);
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
    // Answers with something that is not an HTTP response.
    garbage = createNetServer((c) => c.once('data', () => c.end('HTTP/1.1 abc OK\r\n\r\n')));
    await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
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
        garbage: `http://127.0.0.1:${(garbage.address() as { port: number }).port}`,
        ws: `http://127.0.0.1:${wsPort}`,
      },
      rules: `default: legacy
routes:
  - { name: slow, match: { path: "/slow-headers" }, backend: slow }
  - { name: slow-body, match: { path: "/slow-body" }, backend: slow }
  - { name: closer, match: { path: "/closer" }, backend: closer }
  - { name: refused, match: { path: "/refused" }, backend: refused }
  - { name: blackhole, match: { path: "/blackhole" }, backend: blackhole }
  - { name: garbage, match: { path: "/garbage" }, backend: garbage }
  - { name: ws, match: { path: "/ws/**" }, backend: ws }
`,
    });
  });
  afterAll(async () => {
    await g.stop();
    await Promise.all([legacy.close(), slow.close(), closer.close()]);
    blackhole.close();
    garbage.close();
    wss.close();
  });

  /** Counts upstream errors of one backend and reason: read before, poll for the difference after. */
  const upstreamErrors = (backend: string, reason: string) => () => metric(g.admin, 'switchyard_upstream_errors_total', { backend, reason });

  it.each([
    ['refuses', '/refused', 'refused', 502, 'refused', 'SWY_ERR_UPSTREAM_REFUSED'],
    ['answers something that is not HTTP', '/garbage', 'garbage', 502, 'bad_response', 'SWY_ERR_UPSTREAM_BAD_RESPONSE'],
    ['does not answer in time', '/slow-headers', 'slow', 504, 'response_timeout', 'SWY_ERR_UPSTREAM_RESPONSE_TIMEOUT'],
    ['accepts the connection and never answers', '/blackhole', 'blackhole', 504, 'response_timeout', 'SWY_ERR_UPSTREAM_RESPONSE_TIMEOUT'],
  ])('when the backend %s: answers a JSON error naming it, and counts it', async (_what, path, backend, status, reason, code) => {
    const counted = upstreamErrors(backend, reason);
    const before = await counted();
    const r = await send(g.url + path);
    expect(r.status).toBe(status);
    expect(json(r)).toMatchObject({ error: reason, code, backend });
    await expect.poll(counted).toBe(before + 1);
  });

  it('cuts the client connection when the backend stalls mid-body, and counts it', async () => {
    const counted = upstreamErrors('slow', 'response_timeout');
    const before = await counted();
    await expect(send(g.url + '/slow-body')).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
    await expect.poll(counted).toBe(before + 1);
  });

  it('cuts the client connection when the backend closes mid-response, counts it, and keeps serving', async () => {
    const counted = upstreamErrors('closer', 'reset');
    const before = await counted();
    await expect(send(g.url + '/closer')).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
    expect((await send(g.url + '/still-fine')).status).toBe(200);
    await expect.poll(counted).toBe(before + 1);
  });

  it('cancels the upstream request when the client goes away', async () => {
    // Its own URL, so that the cancellation of the earlier /slow-body request cannot count here.
    await new Promise<void>((resolve) => {
      const req = request(g.url + '/slow-body?client=gone', { agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.end();
    });
    await expect.poll(() => aborted.includes('/slow-body?client=gone')).toBe(true);
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
