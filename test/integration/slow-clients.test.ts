/**
 * Issue 11 item 1: no single client can starve a backend. Raw sockets play the slow clients:
 * bodies that trickle or stall, downloads nobody reads.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { json, send, startServer, type TestServer } from '../helpers/servers.js';

const BIG = Buffer.alloc(16 * 1024 * 1024, 'z');

interface Origin {
  server: TestServer;
  /** Paths of the requests the origin has received (headers in). */
  seen: string[];
  /** Paths whose response the origin saw torn down before it finished. */
  cutOff: string[];
}

async function origin(): Promise<Origin> {
  const seen: string[] = [];
  const cutOff: string[] = [];
  const server = await startServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.url!);
    res.on('close', () => {
      if (!res.writableFinished) cutOff.push(req.url!);
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        return res.end(BIG);
      }
      if (req.url === '/hold') return; // answers never: keeps its connection busy
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: req.url, got: Buffer.concat(chunks).length }));
    });
  });
  return { server, seen, cutOff };
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** A POST announcing 1000 bytes that sends 10 and then nothing. */
async function slowPost(port: number, path: string): Promise<Socket> {
  const s = await openSocket(port);
  s.on('error', () => undefined);
  s.write(`POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n${'a'.repeat(10)}`);
  return s;
}

/** A GET of a large download whose answer is never read. */
async function nonReader(port: number, path: string): Promise<Socket> {
  const s = await openSocket(port);
  s.on('error', () => undefined);
  s.pause();
  s.write(`GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`);
  return s;
}

function replyOf(s: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    s.on('data', (c: Buffer) => (text += c.toString('latin1')));
    s.once('close', () => resolve(text));
  });
}

const RULES = 'default: legacy\nroutes: []\n';

describe('slow clients cannot starve a backend', () => {
  let o: Origin;
  let g: TestGateway;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    o = await origin();
    g = await startGateway({ backends: { legacy: o.server.url }, backendExtra: { legacy: ['connections: 8'] }, rules: RULES });
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await g.stop();
    await o.server.close();
  });

  it('answers a normal request while 300 bodies trickle and 3 downloads go unread', async () => {
    const slow = await Promise.all(Array.from({ length: 300 }, () => slowPost(g.gw.port, '/upload')));
    sockets.push(...slow);
    let slowClosed = 0;
    for (const s of slow) s.once('close', () => slowClosed++);
    const readers = await Promise.all(Array.from({ length: 3 }, () => nonReader(g.gw.port, '/big')));
    sockets.push(...readers);
    // Every slow client is inside the gateway, and the three downloads hold their connections.
    const inFlight = async () => Number(/^switchyard_requests_in_flight (\d+)/m.exec((await send(g.admin + '/metrics')).body)?.[1]);
    await expect.poll(inFlight, { timeout: 20_000 }).toBe(303);
    await expect.poll(() => o.seen.filter((p) => p === '/big').length, { timeout: 20_000 }).toBe(3);

    const r = await send(g.url + '/normal');
    expect(r.status).toBe(200);
    expect(json(r).url).toBe('/normal');
    // The slow bodies never reached the origin (buffered in the gateway), and are still there.
    expect(o.seen.filter((p) => p === '/upload')).toEqual([]);
    expect(slowClosed).toBe(0);
    expect(slow.every((s) => !s.destroyed)).toBe(true);
  }, 60_000);
});

describe('limits.body_timeout, limits.send_timeout, backends.NAME.queue', () => {
  let o: Origin;
  let g: TestGateway;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    o = await origin();
    g = await startGateway({
      backends: { legacy: o.server.url, pipeline: o.server.url },
      backendExtra: { legacy: ['connections: 1', 'queue: 1', 'request_buffering: off'] },
      rules: 'default: legacy\nroutes:\n  - name: buffered\n    match: { path: "/buffered/**" }\n    backend: pipeline\n',
      extra: 'limits:\n  body_timeout: 300ms\n  send_timeout: 300ms',
    });
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.destroy();
  });
  afterAll(async () => {
    await g.stop();
    await o.server.close();
  });

  const metrics = async () => (await send(g.admin + '/metrics')).body;

  it('answers a stalled request body with 408 JSON and closes the connection (streamed)', async () => {
    const s = await slowPost(g.gw.port, '/stall');
    sockets.push(s);
    const text = await replyOf(s);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toMatch(/connection: close/i);
    expect(text).toContain('"code":"SWY_ERR_CLIENT_TIMEOUT"');
    expect(await metrics()).toMatch(/switchyard_client_errors_total\{reason="timeout"\} [1-9]/);
  });

  it('answers a stalled body with 408 before taking a connection when the backend buffers', async () => {
    const s = await slowPost(g.gw.port, '/buffered/stall');
    sockets.push(s);
    const text = await replyOf(s);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toContain('"backend":"pipeline"');
    expect(o.seen).not.toContain('/buffered/stall');
  });

  it('sends a buffered body whole to the backend', async () => {
    const r = await send(g.url + '/buffered/post', { method: 'POST', body: 'x'.repeat(5000) });
    expect(json(r).got).toBe(5000);
  });

  it('aborts the upstream request of a client that stops reading (send_timeout)', async () => {
    const s = await nonReader(g.gw.port, '/big');
    sockets.push(s);
    await expect.poll(() => o.cutOff.includes('/big'), { timeout: 20_000 }).toBe(true);
  });

  it('answers 503 JSON naming the backend when its connections and wait queue are full', async () => {
    const held = await Promise.all([nonReader(g.gw.port, '/hold'), nonReader(g.gw.port, '/hold')]);
    sockets.push(...held);
    // One request holds the only connection, the second waits in the queue of one.
    await expect.poll(() => o.seen.filter((p) => p === '/hold').length, { timeout: 10_000 }).toBe(1);
    await expect.poll(async () => Number(/^switchyard_requests_in_flight (\d+)/m.exec(await metrics())?.[1]), { timeout: 10_000 }).toBe(2);
    const r = await send(g.url + '/third');
    expect(r.status).toBe(503);
    expect(json(r)).toMatchObject({ error: 'busy', code: 'SWY_ERR_UPSTREAM_BUSY', backend: 'legacy' });
    expect(await metrics()).toMatch(/switchyard_upstream_errors_total\{backend="legacy",reason="busy"\} 1/);
  });
});

describe('backends.NAME.queue: 0', () => {
  let o: Origin;
  let g: TestGateway;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    o = await origin();
    g = await startGateway({
      backends: { legacy: o.server.url, pipeline: o.server.url },
      backendExtra: { legacy: ['connections: 1', 'queue: 0'] },
      rules: 'default: legacy\nroutes: []\n',
    });
  });
  afterAll(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await g.stop();
    await o.server.close();
  });

  it('serves while the connection is free, and refuses only a request that would have to wait', async () => {
    expect((await send(g.url + '/free')).status).toBe(200);
    expect((await send(g.url + '/free-again')).status).toBe(200);
    sockets.push(await nonReader(g.gw.port, '/hold'));
    await expect.poll(() => o.seen.filter((p) => p === '/hold').length, { timeout: 10_000 }).toBe(1);
    const r = await send(g.url + '/waits');
    expect(r.status).toBe(503);
    expect(json(r)).toMatchObject({ error: 'busy', backend: 'legacy' });
  });
});
