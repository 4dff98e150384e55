import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { parseGatewayConfig } from '../../src/config/gateway-config.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { createLogger } from '../../src/log/logger.js';
import { echoBackend, send, type TestServer } from '../helpers/servers.js';
import { startGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { rawExchange } from '../helpers/raw.js';

/** A logger whose JSON lines land in `lines`. */
function capturingLogger(lines: Record<string, unknown>[]) {
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return createLogger('info', sink);
}

async function metricValue(admin: string, series: string): Promise<number | undefined> {
  const text = (await send(admin + '/metrics')).body;
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('access log', () => {
  let legacy: TestServer;
  let pipeline: TestServer;
  let wss: WebSocketServer;
  let g: TestGateway;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    legacy = await echoBackend('legacy');
    pipeline = await echoBackend('pipeline');
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m.toString()}`)));
    const wsUrl = `http://127.0.0.1:${(wss.address() as { port: number }).port}`;
    g = await startGateway({
      backends: { legacy: legacy.url, pipeline: pipeline.url, down: 'http://127.0.0.1:9', ws: wsUrl },
      rules: `default: legacy
routes:
  - { name: api, match: { path: "/api/**" }, backend: legacy, shadow: {} }
  - { name: down, match: { path: "/down" }, backend: down }
  - { name: ws, match: { path: "/ws/**" }, backend: ws }
  - { name: ws-down, match: { path: "/ws-down/**" }, backend: down }
`,
      extra: 'shadow:\n  samples: { file: samples.jsonl }',
      options: { logger: capturingLogger(lines) },
    });
  });
  afterAll(async () => {
    await g.stop();
    await legacy.close();
    await pipeline.close();
    await new Promise((r) => wss.close(r));
  });

  const access = () => lines.filter((l) => l.kind === 'access');
  const lineOf = (requestId: string) => access().find((l) => l.request_id === requestId);

  it('writes one structured line per request', async () => {
    await send(g.url + '/api/items?x=1', { method: 'POST', body: 'hello', headers: { 'x-request-id': 'log-1' } });
    await expect.poll(() => lineOf('log-1')).toBeDefined();
    expect(access().filter((l) => l.request_id === 'log-1')).toHaveLength(1);
    const line = lineOf('log-1')!;
    expect(line).toMatchObject({
      level: 30,
      request_id: 'log-1',
      method: 'POST',
      path: '/api/items',
      route: 'api',
      backend: 'legacy',
      placement: 'fixed',
      shadow: 'skipped:method', // a POST is not shadowed unless the route opts in
      status: 200,
      bytes_in: expect.any(Number),
      bytes_out: expect.any(Number),
      duration_ms: expect.any(Number),
    });
    expect(line.reply).toBeUndefined(); // the origin answered
    expect(typeof line.time).toBe('string');
    // Request line, headers and the 5-byte body, like nginx's $request_length.
    expect(line.bytes_in).toBeGreaterThan(5 + 'POST /api/items?x=1 HTTP/1.1\r\n'.length);
  });

  it('logs the error and its cause', async () => {
    await send(g.url + '/down', { headers: { 'x-request-id': 'log-2' } });
    await expect.poll(() => lineOf('log-2')).toBeDefined();
    expect(lineOf('log-2')).toMatchObject({ route: 'down', backend: 'down', status: 502, error: 'refused', cause: expect.stringMatching(/ECONNREFUSED|connect/) });
  });

  it('says what happened to the shadow copy', async () => {
    await send(g.url + '/api/get', { headers: { 'x-request-id': 'log-3' } });
    await expect.poll(() => lineOf('log-3')).toBeDefined();
    expect(lineOf('log-3')).toMatchObject({ shadow: 'pipeline' });
  });

  it('logs a WebSocket upgrade once, when the tunnel closes, with status 101, and counts it', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${g.gw.port}/ws/chat`, { headers: { 'x-request-id': 'ws-1' } });
    const got = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('hello'));
      ws.once('message', (m) => resolve(m.toString()));
      ws.once('error', reject);
    });
    expect(got).toBe('echo:hello');
    // Not before the tunnel closes: the line carries the whole session.
    expect(lineOf('ws-1')).toBeUndefined();
    ws.close();
    await expect.poll(() => lineOf('ws-1')).toBeDefined();
    expect(access().filter((l) => l.request_id === 'ws-1')).toHaveLength(1);
    const line = lineOf('ws-1')!;
    expect(line).toMatchObject({ method: 'GET', path: '/ws/chat', route: 'ws', backend: 'ws', placement: 'fixed', status: 101, duration_ms: expect.any(Number) });
    expect(line.error).toBeUndefined();
    // The handshake and the frames: more than the 101 answer's status line alone, each way.
    expect(line.bytes_in).toBeGreaterThan('GET /ws/chat HTTP/1.1\r\n'.length);
    expect(line.bytes_out).toBeGreaterThan('HTTP/1.1 101 Switching Protocols\r\n'.length);
    expect(await metricValue(g.admin, 'switchyard_requests_total{route="ws",backend="ws",code="101"}')).toBe(1);
    expect(await metricValue(g.admin, 'switchyard_route_placements_total{route="ws",backend="ws",placement="fixed"}')).toBe(1);
  });

  it('logs an upgrade the backend could not take, with the error', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${g.gw.port}/ws-down/x`, { headers: { 'x-request-id': 'ws-2' } });
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', () => resolve(0));
    });
    expect(status).toBe(502);
    await expect.poll(() => lineOf('ws-2')).toBeDefined();
    expect(lineOf('ws-2')).toMatchObject({ route: 'ws-down', backend: 'down', status: 502, error: 'refused' });
    expect(await metricValue(g.admin, 'switchyard_upstream_errors_total{backend="down",reason="refused"}')).toBeGreaterThanOrEqual(1);
  });

  it('logs a request the parser refused, with route and backend "-" and the reason', async () => {
    const before = access().filter((l) => l.error === 'bad_request').length;
    const data = 'GARBAGE\r\n\r\n';
    const r = await rawExchange(g.gw.port, data);
    expect(r.status).toBe(400);
    await expect.poll(() => access().filter((l) => l.error === 'bad_request').length).toBe(before + 1);
    const line = access().filter((l) => l.error === 'bad_request').at(-1)!;
    expect(line).toMatchObject({ route: '-', backend: '-', status: 400, bytes_in: Buffer.byteLength(data), bytes_out: Buffer.byteLength(r.text) });
    expect(line.method).toBeUndefined();
    expect(await metricValue(g.admin, 'switchyard_requests_total{route="-",backend="-",code="400"}')).toBeGreaterThanOrEqual(1);
    expect(await metricValue(g.admin, 'switchyard_client_errors_total{reason="bad_request"}')).toBeGreaterThanOrEqual(1);
  });

  it('logs a request cut short by a parser error mid-body once, with the parser reason', async () => {
    // Headers are fine, so the request is on its way to the backend when the chunk size is not hex.
    const r = await rawExchange(g.gw.port, 'POST /api/upload HTTP/1.1\r\nHost: a\r\nx-request-id: mid-1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\n');
    expect(r.status).toBe(400);
    await expect.poll(() => lineOf('mid-1')).toBeDefined();
    expect(lineOf('mid-1')).toMatchObject({ route: 'api', backend: 'legacy', status: 400, error: 'bad_request' });
    expect(access().filter((l) => l.request_id === 'mid-1')).toHaveLength(1);
  });
});

describe('access log with the pipeline in-process', () => {
  let origin: TestServer;
  let gw: Gateway;
  let url: string;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    origin = await echoBackend('origin');
    const dir = tempDir();
    writeFileSync(
      join(dir, 'products.yaml'),
      `origin: { url: "${origin.url}" }
waf:
  - { id: "1004", field: "header:x-attack", pattern: "." }
redirects:
  - { id: find, from: "/find", to: "/api/search", status: 308 }
`,
    );
    writeFileSync(join(dir, 'rules.yaml'), 'default: pipeline\n');
    const text = 'listen: "127.0.0.1:0"\nadmin: { listen: "127.0.0.1:0" }\nbackends:\n  pipeline: { inprocess: true, products: products.yaml }\nrules: { file: rules.yaml }\n';
    writeFileSync(join(dir, 'gateway.yaml'), text);
    gw = await Gateway.start(parseGatewayConfig(text, join(dir, 'gateway.yaml'), {}), { logger: capturingLogger(lines) });
    url = `http://127.0.0.1:${gw.port}`;
  });
  afterAll(async () => {
    await gw.stop(500);
    await origin.close();
  });

  const lineOf = (requestId: string) => lines.find((l) => l.kind === 'access' && l.request_id === requestId);

  it.each([
    ['a WAF block', { 'x-attack': '1' }, '/x', 403, 'waf:1004'],
    ['a redirect', {}, '/find', 308, 'redirect:find'],
  ])("carries the pipeline's reason for %s into the gateway's line as `reply`", async (_name, headers, path, status, reply) => {
    const id = `reply-${status}`;
    const r = await send(url + path, { headers: { ...headers, 'x-request-id': id } });
    expect(r.status).toBe(status);
    await expect.poll(() => lineOf(id)).toBeDefined();
    expect(lineOf(id)).toMatchObject({ backend: 'pipeline', status, reply });
    expect(lineOf(id)!.error).toBeUndefined();
  });

  it('has no `reply` when the origin answered, and one line per request (none from the pipeline itself)', async () => {
    expect((await send(url + '/plain', { headers: { 'x-request-id': 'origin-1' } })).status).toBe(200);
    await expect.poll(() => lineOf('origin-1')).toBeDefined();
    expect(lineOf('origin-1')!.reply).toBeUndefined();
    expect(lines.filter((l) => l.kind === 'access' && l.request_id === 'origin-1')).toHaveLength(1);
  });
});
