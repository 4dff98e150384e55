/**
 * Issue 11 item 10, the smaller items an attacker found at the edge, each against a real gateway
 * (plain and h2c listeners), a real pipeline service and raw sockets: nothing pipelined behind a
 * refused request is handled; CONNECT gets 400 (authority) or 405 (path), as from nginx; HTTP/2.0 and HTTP/0.9 request lines get 505
 * and 400; a target that is no URI is the client's 400; too many header fields get 431 instead
 * of losing some; a corrupt rules snapshot is reported as corrupt.
 */
import { rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect as h2Connect } from 'node:http2';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { createMetrics, type Metrics } from '../../src/metrics/catalogue.js';
import { PipelineServer } from '../../src/pipeline/pipeline-server.js';
import { parseProducts } from '../../src/products/products-config.js';
import { startGateway, type TestGateway, tempDir } from '../helpers/gateway.js';
import { h2Request, jsonLines } from '../helpers/http2.js';
import { metric, metricValue } from '../helpers/metrics.js';
import { rawExchange, wholeResponse } from '../helpers/raw.js';
import { freePort } from '../helpers/redis.js';
import { json, send, startServer, type TestServer } from '../helpers/servers.js';

/** Status lines in what came back on one connection. */
const statuses = (text: string) => [...text.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((m) => Number(m[1]));

/** `n` header fields, short enough for a thousand to fit in the pipeline's 8 KiB. */
const headerLines = (n: number) => Array.from({ length: n }, (_, i) => `${i.toString(36)}:\r\n`).join('');

/** Records what reached it; `/slow` is held until release(). */
async function recordingOrigin() {
  const seen: string[] = [];
  const hosts = new Map<string, string | undefined>();
  const held: ServerResponse[] = [];
  const server = await startServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.url!);
    hosts.set(req.url!, req.headers.host);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({ url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (req.url === '/slow') {
        held.push(res);
        res.writeHead(200, { 'content-type': 'application/json' });
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
  });
  const release = () => {
    for (const r of held.splice(0)) r.end('{}');
  };
  return { server, seen, hosts, release };
}

describe('the gateway at the edge', () => {
  let origin: Awaited<ReturnType<typeof recordingOrigin>>;
  let g: TestGateway;
  let plain: number;
  let h2c: number;
  const { sink, lines } = jsonLines();
  const access = () => lines.filter((l) => l.kind === 'access');

  beforeAll(async () => {
    origin = await recordingOrigin();
    g = await startGateway({
      backends: { legacy: origin.server.url },
      listen: 'listen:\n  - "127.0.0.1:0"\n  - { address: "127.0.0.1:0", h2c: true }',
      rules: 'default: legacy\n',
      extra: 'limits:\n  max_header_count: 20',
      options: { logger: createLogger('info', sink) },
    });
    [plain, h2c] = g.gw.ports as [number, number];
  });
  afterAll(async () => {
    await g?.stop();
    await origin?.server.close();
  });

  const inFlight = () => metric(g.admin, 'switchyard_requests_in_flight');
  const requests = () => metric(g.admin, 'switchyard_requests_total');
  const clientErrors = (reason: string) => metric(g.admin, 'switchyard_client_errors_total', { reason });
  const upstreamErrors = () => metric(g.admin, 'switchyard_upstream_errors_total');

  describe('after a refused request, the connection closes and nothing behind it is handled', () => {
    it.each([
      ['no Host', 'GET /refused HTTP/1.1\r\n\r\n', 400],
      ['a Trailer without a chunked body', 'GET /refused HTTP/1.1\r\nHost: a\r\nTrailer: x\r\n\r\n', 400],
      ['a target that is no URI', 'GET http:///refused HTTP/1.1\r\nHost: a\r\n\r\n', 400],
      ['an HTTP/2.0 request line', 'GET /refused HTTP/2.0\r\nHost: a\r\n\r\n', 505],
      ['too many header fields', `GET /refused HTTP/1.1\r\nHost: a\r\n${headerLines(20)}\r\n`, 431],
    ])('%s', async (_name, refused, status) => {
      const [inFlightBefore, requestsBefore] = [await inFlight(), await requests()];
      const behind = 'GET /behind HTTP/1.1\r\nHost: a\r\n\r\nPOST /behind-post HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi';
      const r = await rawExchange(plain, refused + behind);
      expect(statuses(r.text)).toEqual([status]);
      expect(r.text).toMatch(/^connection: close$/im);
      expect(r.closed).toBe(true);
      // Node's parser emits the requests behind in the same read as the refused one, so a handled
      // one would be in flight by now; once nothing is, exactly one exchange was counted.
      await expect.poll(inFlight).toBe(inFlightBefore);
      expect(await requests()).toBe(requestsBefore + 1);
      expect(origin.seen.filter((u) => u.startsWith('/behind'))).toEqual([]);
    });

    it('lets the requests before it finish, answers it after them, and handles nothing behind it', async () => {
      const inFlightBefore = await inFlight();
      const badBefore = await clientErrors('bad_request');
      const pending = rawExchange(plain, 'GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /refused HTTP/1.1\r\n\r\nGET /behind-slow HTTP/1.1\r\nHost: a\r\n\r\n');
      await expect.poll(() => origin.seen.includes('/slow')).toBe(true);
      await expect.poll(() => clientErrors('bad_request')).toBe(badBefore + 1);
      // Only /slow is in flight: the request behind the refusal was never handled.
      expect(await inFlight()).toBe(inFlightBefore + 1);
      origin.release();
      const r = await pending;
      expect(statuses(r.text)).toEqual([200, 400]);
      expect(r.closed).toBe(true);
      await expect.poll(inFlight).toBe(inFlightBefore);
      expect(origin.seen).not.toContain('/behind-slow');
    });

    it('keeps the connection for pipelined requests that are not refused', async () => {
      const r = await rawExchange(plain, 'GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\n', {
        until: (t) => statuses(t).length === 2 && wholeResponse(t.slice(t.lastIndexOf('HTTP/1.1 '))),
      });
      expect(statuses(r.text)).toEqual([200, 200]);
      expect(r.closed).toBe(false);
    });
  });

  describe('CONNECT', () => {
    it('gets 400 JSON to the authority target CONNECT has, as from nginx, and the tunnel bytes are never read', async () => {
      const before = await clientErrors('bad_request');
      const r = await rawExchange(plain, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nGET /tunnelled HTTP/1.1\r\nHost: a\r\n\r\n');
      expect(statuses(r.text)).toEqual([400]);
      expect(r.text).toContain('"code":"SWY_ERR_CLIENT_BAD_REQUEST"');
      expect(r.closed).toBe(true);
      expect(origin.seen).not.toContain('/tunnelled');
      await expect.poll(() => clientErrors('bad_request')).toBe(before + 1);
    });

    it('gets 405 JSON with Allow to a path over HTTP/1.1, its tunnel bytes are never read as requests, and it is logged', async () => {
      const before = await clientErrors('method_not_allowed');
      const r = await rawExchange(plain, 'CONNECT /example HTTP/1.1\r\nHost: example.com:443\r\n\r\nGET /tunnelled HTTP/1.1\r\nHost: a\r\n\r\n');
      expect(statuses(r.text)).toEqual([405]);
      expect(r.text).toMatch(/^allow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE$/im);
      expect(r.text).toContain('"code":"SWY_ERR_CLIENT_METHOD_NOT_ALLOWED"');
      expect(r.closed).toBe(true);
      expect(origin.seen).not.toContain('/tunnelled');
      await expect.poll(() => clientErrors('method_not_allowed')).toBe(before + 1);
      await expect
        .poll(() => access().find((l) => l.method === 'CONNECT' && l.path === '/example'))
        .toMatchObject({
          path: '/example',
          protocol: 'HTTP/1.1',
          route: '-',
          status: 405,
          error: 'method_not_allowed',
        });
    });

    it('gets 400 JSON on an HTTP/2 stream (it has no path), and the connection serves on', async () => {
      const session = h2Connect(`http://127.0.0.1:${h2c}`);
      try {
        const r = await h2Request(session, { ':method': 'CONNECT', ':authority': 'example.com:443' });
        expect(r.status).toBe(400);
        expect(JSON.parse(r.body)).toMatchObject({ code: 'SWY_ERR_CLIENT_BAD_REQUEST' });
        expect((await h2Request(session, { ':path': '/after-connect' })).status).toBe(200);
      } finally {
        session.close();
      }
    });
  });

  describe('HTTP versions', () => {
    it.each([
      ['an HTTP/2.0 request line', 'GET /v HTTP/2.0\r\nHost: a\r\n\r\n', 505, 'http_version'],
      ['an HTTP/3.0 request line', 'GET /v HTTP/3.0\r\nHost: a\r\n\r\n', 505, 'http_version'],
      ['an HTTP/0.9 request line', 'GET /v HTTP/0.9\r\nHost: a\r\n\r\n', 400, 'bad_request'],
      ['an HTTP/0.9 simple request', 'GET /v\r\n\r\n', 400, 'bad_request'],
    ])('answers %s on plain and h2c listeners, never forwarding it', async (_name, data, status, reason) => {
      for (const port of [plain, h2c]) {
        const before = await clientErrors(reason);
        const r = await rawExchange(port, data);
        expect(r.status).toBe(status);
        expect(r.text).toContain('"code":"SWY_ERR_CLIENT_');
        expect(r.closed).toBe(true);
        await expect.poll(() => clientErrors(reason)).toBe(before + 1);
      }
      expect(origin.seen).not.toContain('/v');
    });

    it('still serves HTTP/2 with prior knowledge on the h2c listener', async () => {
      const session = h2Connect(`http://127.0.0.1:${h2c}`);
      try {
        expect((await h2Request(session, { ':path': '/prior-knowledge' })).status).toBe(200);
      } finally {
        session.close();
      }
      expect(origin.seen).toContain('/prior-knowledge');
    });
  });

  describe('absolute-form targets that are no URI', () => {
    it.each([
      'http:///x', // empty host ("x" to WHATWG URL)
      'http://user@host/x', // userinfo (RFC 9110 §4.2.4)
      'http://%zz/x',
      'http://a:65536/x',
      'http://[::1/x',
      'http://256.1.1.1/x',
    ])('%s gets 400, counted as a client error, never against a backend', async (target) => {
      const [bad, upstream] = [await clientErrors('bad_request'), await upstreamErrors()];
      const r = await rawExchange(plain, `GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`);
      expect(r.status).toBe(400);
      expect(r.text).toContain('"code":"SWY_ERR_CLIENT_BAD_REQUEST"');
      await expect.poll(() => clientErrors('bad_request')).toBe(bad + 1);
      expect(await upstreamErrors()).toBe(upstream);
    });

    it('forwards a valid one in origin-form, with its authority as Host', async () => {
      const r = await rawExchange(plain, 'GET http://shop.example:8080/abs?q=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
      expect(r.status).toBe(200);
      expect(origin.hosts.get('/abs?q=1')).toBe('shop.example:8080');
    });
  });

  describe('limits.max_header_count (20 here)', () => {
    it('refuses a POST with more fields with 431 instead of losing its Content-Length', async () => {
      const before = await clientErrors('headers_too_large');
      // 21 fields: admission's 431; 60: the parser's (it stops one past the limit).
      for (const extra of [19, 58]) {
        const r = await rawExchange(plain, `POST /many HTTP/1.1\r\nHost: a\r\n${headerLines(extra)}Content-Length: 2\r\n\r\nhi`);
        expect(r.status).toBe(431);
        expect(r.text).toContain('"code":"SWY_ERR_CLIENT_HEADERS_TOO_LARGE"');
        expect(r.closed).toBe(true);
      }
      await expect.poll(() => clientErrors('headers_too_large')).toBe(before + 2);
      expect(origin.seen).not.toContain('/many');
    });

    it('forwards a request with exactly that many, every field intact', async () => {
      const headers = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`x-h${i}`, 'v']));
      // Host, Connection and Content-Length (node:http adds them) make 20.
      const r = await send(`${g.url}/twenty`, { method: 'POST', headers, body: 'hi' });
      expect(r.status).toBe(200);
      const seen = json<{ headers: Record<string, string>; body: string }>(r);
      expect(seen.body).toBe('hi');
      expect(seen.headers['x-h16']).toBe('v');
    });

    it('answers 431 on HTTP/2 too', async () => {
      const session = h2Connect(`http://127.0.0.1:${h2c}`);
      try {
        const headers = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`x-h${i}`, 'v']));
        const r = await h2Request(session, { ':path': '/many-h2', ...headers });
        expect(r.status).toBe(431);
        expect(JSON.parse(r.body)).toMatchObject({ code: 'SWY_ERR_CLIENT_HEADERS_TOO_LARGE' });
        expect((await h2Request(session, { ':path': '/few-h2', 'x-a': '1' })).status).toBe(200);
      } finally {
        session.close();
      }
      expect(origin.seen).not.toContain('/many-h2');
    });
  });
});

describe('the pipeline service at the edge', () => {
  let origin: Awaited<ReturnType<typeof recordingOrigin>>;
  let server: PipelineServer;
  let metrics: Metrics;
  const { sink, lines } = jsonLines();

  beforeAll(async () => {
    origin = await recordingOrigin();
    metrics = createMetrics({ processMetrics: false });
    const products = parseProducts(
      `origin: { url: "${origin.server.url}" }\nredirects:\n  - { id: find, from: "/find", to: "/api/search", status: 308 }\n`,
      'p.yaml',
    );
    server = await PipelineServer.start({
      products,
      listen: { host: '127.0.0.1', port: 0 },
      metrics,
      logger: createLogger('info', sink),
      log: { access: true, accessSample: 1 },
    });
  });
  afterAll(async () => {
    await server?.stop(500);
    await origin?.server.close();
  });

  const answered = async (labels: Record<string, string>) => metricValue(await metrics.registry.metrics(), 'switchyard_pipeline_requests_total', labels);

  it('closes the connection after a refused request and handles nothing behind it', async () => {
    const redirects = await answered({ code: '308' });
    // The redirect behind would be answered (and counted) in the same read as the refusal.
    const r = await rawExchange(server.port, 'GET /x HTTP/1.1\r\n\r\nGET /find HTTP/1.1\r\nHost: a\r\n\r\nGET /behind HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(statuses(r.text)).toEqual([400]);
    expect(r.closed).toBe(true);
    expect(await answered({ code: '308' })).toBe(redirects);
    expect(origin.seen).not.toContain('/behind');
  });

  it.each([
    ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 400, 'bad_request'],
    ['an HTTP/2.0 request line', 'GET /v HTTP/2.0\r\nHost: a\r\n\r\n', 505, 'http_version'],
    ['an HTTP/0.9 request line', 'GET /v HTTP/0.9\r\nHost: a\r\n\r\n', 400, 'bad_request'],
    ['1001 header fields', `POST /v HTTP/1.1\r\nHost: a\r\n${headerLines(999)}Content-Length: 2\r\n\r\nhi`, 431, 'headers_too_large'],
    ['a target that is no URI', 'GET http://user@host/v HTTP/1.1\r\nHost: a\r\n\r\n', 400, 'bad_request'],
  ])('answers %s with JSON, closes, counts and logs it', async (_name, data, status, reason) => {
    const counted = async () => metricValue(await metrics.registry.metrics(), 'switchyard_client_errors_total', { reason });
    const before = await counted();
    const r = await rawExchange(server.port, data);
    expect(r.status).toBe(status);
    expect(r.text).toMatch(new RegExp(`"error":"${reason}"`));
    expect(r.closed).toBe(true);
    if (status === 405) expect(r.text).toMatch(/^allow: GET, /im);
    await expect.poll(counted).toBe(before + 1);
    await expect.poll(() => lines.find((l) => l.kind === 'access' && l.status === status && l.error === reason)).toBeDefined();
    expect(origin.seen).not.toContain('/v');
  });

  it('serves a request with 1000 header fields (the default limit)', async () => {
    // The pipeline adds x-forwarded-for: more than Node's own 1000 at the origin.
    origin.server.server.maxHeadersCount = 0;
    // Host, Connection and Content-Length (node:http adds them) make 1000.
    const headers = Object.fromEntries(Array.from({ length: 997 }, (_, i) => [i.toString(36), '']));
    const r = await send(`http://127.0.0.1:${server.port}/thousand`, { method: 'POST', headers, body: 'hi' });
    expect(r.status, r.body).toBe(200);
    expect(json<{ body: string }>(r).body).toBe('hi');
  });
});

describe('a corrupt rules snapshot', () => {
  let origin: TestServer;
  let redisPort: number;
  let dir: string;
  beforeAll(async () => {
    origin = await startServer((_req, res) => res.end('ok'));
    // Nothing listens there: Redis is unreachable at start, and the gateway falls back.
    redisPort = await freePort();
    dir = tempDir();
  });
  afterAll(async () => {
    await origin?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['truncated', '{"version":3,"yaml":"default: le', /is corrupt \(not JSON: /, 'error', 'rules snapshot is corrupt; falling back to rules.file'],
    ['not a snapshot', '{"rules":[]}', /is corrupt \(not a rules snapshot/, 'error', 'rules snapshot is corrupt; falling back to rules.file'],
    [
      'holding invalid rules',
      JSON.stringify({ version: 3, yaml: 'default: gone\n', savedAt: '' }),
      /holds invalid rules \(version 3\)/,
      'invalid',
      'rules snapshot holds invalid rules; falling back to rules.file',
    ],
  ])('%s: said so in the log, /readyz and rules_reloads, never taken for no snapshot; rules.file serves', async (name, content, note, result, msg) => {
    const snapshot = join(dir, `${name.replace(/\W/g, '-')}.json`);
    writeFileSync(snapshot, content);
    const { sink, lines } = jsonLines();
    const g = await startGateway({
      backends: { legacy: origin.url },
      rules: 'default: legacy\n',
      rulesBlock: (f) => `rules:\n  file: "${f}"\n  redis: { url: "redis://127.0.0.1:${redisPort}", prefix: "t:", snapshot: "${snapshot}" }`,
      options: { logger: createLogger('info', sink) },
    });
    try {
      const ready = json<{ source: string; note: string }>(await send(g.admin + '/readyz'));
      expect(ready.source).toBe('file');
      expect(ready.note).toMatch(note);
      expect(ready.note).not.toMatch(/no snapshot/);
      expect(await metric(g.admin, 'switchyard_rules_reloads_total', { result })).toBe(1);
      expect(lines.find((l) => l.msg === msg)).toMatchObject({ level: 50, snapshot });
      expect((await send(g.url + '/x')).status).toBe(200);
    } finally {
      await g.stop();
    }
  });

  it('a missing one is still "no snapshot", and not counted', async () => {
    const g = await startGateway({
      backends: { legacy: origin.url },
      rules: 'default: legacy\n',
      rulesBlock: (f) =>
        `rules:\n  file: "${f}"\n  redis: { url: "redis://127.0.0.1:${redisPort}", prefix: "t:", snapshot: "${join(dir, 'never-written.json')}" }`,
    });
    try {
      expect(json<{ note: string }>(await send(g.admin + '/readyz')).note).toMatch(/unreachable at start; no snapshot, serving /);
      expect(await metric(g.admin, 'switchyard_rules_reloads_total')).toBe(0);
    } finally {
      await g.stop();
    }
  });
});
