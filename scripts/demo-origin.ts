/**
 * The demo origin: a small JSON API that the demo, the tests and the benchmarks put behind the
 * legacy layer and the pipeline.
 *
 *   GET  /api/catalog              the item list (?limit=N)
 *   GET  /api/catalog/:id          one item, or 404
 *   GET  /api/search?q=&limit=     items whose name contains q
 *   POST /api/echo                 echoes the body, its type and length
 *   GET  /api/slow?ms=N            answers after N ms (at most 10 s)
 *   GET  /api/volatile             fields that change on every call (time, request id, nonce)
 *   GET  /api/headers              the request headers the origin received
 *   *    anything else             404 {"error":"not_found"}
 *
 * Run on its own: `node dist-scripts/demo-origin.js [PORT]` (prints "ready PORT").
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const ITEMS = Array.from({ length: 24 }, (_, i) => ({
  id: i + 1,
  name: ['widget', 'gadget', 'gizmo', 'doohickey', 'sprocket', 'flange'][i % 6] + ` ${i + 1}`,
  price: Math.round((5 + i * 1.25) * 100) / 100,
  tags: ['tools', i % 2 ? 'sale' : 'new'],
  stock: (i * 7) % 13,
}));

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-powered-by': 'demo-origin',
    ...headers,
  });
  res.end(text);
}

function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const url = new URL(req.url ?? '/', 'http://origin');
  const path = url.pathname;
  const limit = Math.min(100, Math.max(1, Number(url.searchParams.get('limit') ?? 20) || 20));
  if (req.method === 'POST' && path === '/api/echo') {
    return send(res, 200, { received: body.toString('utf8'), content_type: req.headers['content-type'] ?? null, length: body.length });
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method_not_allowed' }, { allow: 'GET, HEAD' });
  if (path === '/api/catalog') return send(res, 200, { items: ITEMS.slice(0, limit), total: ITEMS.length });
  const item = /^\/api\/catalog\/(\d+)$/.exec(path);
  if (item) {
    const found = ITEMS.find((i) => i.id === Number(item[1]));
    return found ? send(res, 200, found, { etag: `"item-${found.id}"` }) : send(res, 404, { error: 'not_found', id: Number(item[1]) });
  }
  if (path === '/api/search') {
    const q = (url.searchParams.get('q') ?? '').toLowerCase();
    const hits = ITEMS.filter((i) => i.name.includes(q)).slice(0, limit);
    return send(res, 200, { query: q, count: hits.length, items: hits });
  }
  if (path === '/api/slow') {
    const ms = Math.min(10_000, Math.max(0, Number(url.searchParams.get('ms') ?? 500) || 0));
    return void setTimeout(() => send(res, 200, { waited_ms: ms }), ms);
  }
  if (path === '/api/volatile') {
    return send(res, 200, { id: 1, generated_at: new Date().toISOString(), request_id: randomUUID(), nonce: Math.random(), stable: 'same every time' });
  }
  if (path === '/api/headers') return send(res, 200, { headers: req.headers, method: req.method, url: req.url });
  return send(res, 404, { error: 'not_found', path });
}

export function startDemoOrigin(port = 0, host = '127.0.0.1'): Promise<{ server: Server; port: number; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
  });
  return new Promise((resolve) => {
    server.listen(port, host, () => {
      const p = (server.address() as AddressInfo).port;
      resolve({
        server,
        port: p,
        url: `http://${host}:${p}`,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  void startDemoOrigin(Number(process.argv[2] ?? 9000)).then(({ port }) => process.stdout.write(`ready ${port}\n`));
}
