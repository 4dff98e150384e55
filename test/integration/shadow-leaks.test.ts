/**
 * Issue 11 item 7: shadow accounting that cannot leak. With one concurrency slot per route and no
 * queue, a single leaked slot would drop every later copy of the route; so after each way a
 * primary can end (504 mid-upload, client abort mid-upload, upstream reset, shadow target reset)
 * the in-flight gauge must return to 0 and the next request must be compared again.
 */
import { connect, type Socket } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, startGateway, type TestGateway } from '../helpers/gateway.js';
import { json, send, startServer, type TestServer } from '../helpers/servers.js';

function readAll(req: IncomingMessage, then: (body: string) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => then(Buffer.concat(chunks).toString()));
}

const bodyStarted: string[] = [];

function backend(name: 'legacy' | 'pipeline') {
  return startServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url!;
    if (name === 'legacy' && path === '/up/hang') {
      // Stops reading and never answers: once the upload backs up, the gateway's response_timeout
      // (1s) gives 504 while the client's body is still arriving.
      req.pause();
      return;
    }
    if (name === 'legacy' && path === '/up/abort') {
      req.once('data', () => bodyStarted.push(path));
      req.resume();
      return;
    }
    if (name === 'legacy' && path === '/up/reset') {
      req.once('data', () => req.socket.destroy());
      return;
    }
    if (name === 'pipeline' && path === '/up/target-reset') {
      req.socket.destroy();
      return;
    }
    readAll(req, (body) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ got: body }));
    });
  });
}

const RULES = `default: legacy
routes:
  - name: up
    match: { path: "/up/**" }
    backend: legacy
    shadow: { methods: [POST], max_body: 64mb }
`;

/** Sends the head of a POST announcing `announced` bytes and only `sent` of them. */
function partialPost(port: number, path: string, sent = 10, announced = 100): Promise<{ sock: Socket; reply: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => {
      sock.write(`POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: text/plain\r\ncontent-length: ${announced}\r\n\r\n`);
      sock.write(Buffer.alloc(sent, 'a'));
      const reply = new Promise<string>((res) => {
        let text = '';
        sock.on('data', (c: Buffer) => {
          text += c.toString('latin1');
          if (/\r\n\r\n/.test(text)) res(text);
        });
      });
      resolve({ sock, reply });
    });
    sock.on('error', reject);
  });
}

describe('shadow accounting that cannot leak', () => {
  let legacy: TestServer;
  let pipeline: TestServer;
  let g: TestGateway;
  const open: Socket[] = [];

  beforeAll(async () => {
    legacy = await backend('legacy');
    pipeline = await backend('pipeline');
    g = await startGateway({
      backends: { legacy: legacy.url, pipeline: pipeline.url },
      // Streamed, so that the primary is under way while the body is still arriving.
      backendExtra: { legacy: ['request_buffering: off'] },
      rules: RULES,
      extra: 'shadow:\n  max_concurrent_per_route: 1\n  queue: 0',
    });
  });
  afterAll(async () => {
    for (const s of open) s.destroy();
    await g.stop();
    await legacy.close();
    await pipeline.close();
  });

  const metrics = async () => (await send(g.admin + '/metrics')).body;
  const inFlight = async () => Number(/^switchyard_shadow_in_flight (\d+)/m.exec(await metrics())?.[1]);
  const results = async () => json<{ routes: { results: Record<string, number>; skipped_reasons: Record<string, number> }[] }>(await send(`${g.admin}/diffs?route=up`, { headers: adminAuth })).routes[0];

  /** The route is compared again: a whole POST after the incident gets a verdict, not "dropped". */
  async function stillCompared(): Promise<void> {
    await expect.poll(inFlight, { timeout: 10_000 }).toBe(0);
    const before = (await results())?.results.match ?? 0;
    expect((await send(g.url + '/up/ok', { method: 'POST', body: 'hello' })).status).toBe(200);
    await expect.poll(async () => (await results())?.results.match ?? 0, { timeout: 10_000 }).toBe(before + 1);
    expect(await metrics()).not.toMatch(/switchyard_shadow_requests_total\{route="up",target="pipeline",outcome="dropped"\}/);
  }

  it('releases the slot when the primary times out (504) while the body is still arriving', async () => {
    const { sock, reply } = await partialPost(g.gw.port, '/up/hang', 16 * 1024 * 1024, 32 * 1024 * 1024);
    open.push(sock);
    expect(await reply).toMatch(/^HTTP\/1\.1 504 /);
    // The client is still connected, its body still unfinished.
    expect(sock.destroyed).toBe(false);
    await stillCompared();
    expect((await results())!.skipped_reasons.primary_error).toBeGreaterThanOrEqual(1);
  });

  it('releases the slot when the client goes away mid-upload', async () => {
    const { sock } = await partialPost(g.gw.port, '/up/abort');
    await expect.poll(() => bodyStarted.includes('/up/abort'), { timeout: 10_000 }).toBe(true);
    sock.destroy();
    await stillCompared();
  });

  it('releases the slot when the primary upstream resets mid-upload', async () => {
    const { sock, reply } = await partialPost(g.gw.port, '/up/reset');
    open.push(sock);
    expect(await reply).toMatch(/^HTTP\/1\.1 502 /);
    await stillCompared();
  });

  it('releases the slot when the shadow target resets', async () => {
    expect((await send(g.url + '/up/target-reset', { method: 'POST', body: 'x' })).status).toBe(200);
    await expect.poll(async () => (await results())?.results.shadow_error ?? 0, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    await stillCompared();
  });

  it('returns the in-flight gauge and the buffered bytes to 0 after a burst', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => send(g.url + '/up/ok', { method: 'POST', body: 'x'.repeat(i * 100) })));
    await expect.poll(inFlight, { timeout: 10_000 }).toBe(0);
    await expect.poll(async () => /^switchyard_shadow_buffered_bytes (\d+)/m.exec(await metrics())?.[1], { timeout: 10_000 }).toBe('0');
  });
});

describe('shadow.max_buffered_bytes', () => {
  let legacy: TestServer;
  let pipeline: TestServer;
  let g: TestGateway;
  const held: ServerResponse[] = [];

  beforeAll(async () => {
    legacy = await backend('legacy');
    // A hung shadow target: copies wait, holding their bodies and the primaries' answers.
    pipeline = await startServer((req, res) => {
      req.resume();
      held.push(res);
    });
    g = await startGateway({
      backends: { legacy: legacy.url, pipeline: pipeline.url },
      rules: RULES.replace('max_body: 64mb', 'max_body: 64mb, timeout: 20s'),
      extra: 'shadow:\n  max_buffered_bytes: 100kb',
    });
  });
  afterAll(async () => {
    for (const r of held) r.destroy();
    await g.stop();
    await legacy.close();
    await pipeline.close();
  });

  it('skips copies past the global bound and counts them with reason buffer_full', async () => {
    const body = 'b'.repeat(30 * 1024);
    // Three 30 KiB bodies plus their 30 KiB echoes fill the 100 KiB; later copies must be skipped.
    for (let i = 0; i < 6; i++) expect((await send(g.url + '/up/big', { method: 'POST', body })).status).toBe(200);
    const m = (await send(g.admin + '/metrics')).body;
    expect(m).toMatch(/switchyard_shadow_skipped_total\{route="up",reason="buffer_full"\} [1-9]/);
    const bytes = Number(/^switchyard_shadow_buffered_bytes (\d+)/m.exec(m)?.[1]);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(100 * 1024);
  });
});
