/**
 * Child-process entry for the benchmark's peers, each a minimal, well-tuned baseline:
 *   origin PORT                 the backend: a 1 KiB JSON answer
 *   slow-origin PORT            the same answer after 500 ms (a slow shadow target)
 *   stuck-origin PORT           reads the request and never answers (a stuck shadow target)
 * The origins answer /big with 1 MiB of JSON.
 *   http-proxy PORT TARGET      bare http-proxy with a keep-alive agent
 *   undici PORT TARGET          bare undici Pool proxy, streaming like switchyard's forwarder
 *   undici-mirror PORT TARGET   the same, sending every request a second time to TARGET through a
 *                               pool of its own and reading that answer whole (compared with
 *                               nothing): what a 100 % shadow costs at the least, with no shadow logic
 * Each prints "ready PORT" on stdout once listening.
 */
import { Agent, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import httpProxy from 'http-proxy';
import { Pool } from 'undici';

const [kind, portArg, target] = process.argv.slice(2);
const port = Number(portArg ?? 0);

const ITEM = { id: 1, name: 'widget', price: 9.99, tags: ['a', 'b', 'c'], description: 'x'.repeat(40) };
const BODY = JSON.stringify({ items: Array.from({ length: 8 }, (_, i) => ({ ...ITEM, id: i })), meta: { page: 1 } }).slice(0, 1024);
const PAYLOAD = Buffer.from(BODY.length < 1024 ? BODY + ' '.repeat(1024 - BODY.length) : BODY);

const BIG = Buffer.from(JSON.stringify({ items: Array.from({ length: 9000 }, (_, i) => ({ ...ITEM, id: i })) }).slice(0, 1024 * 1024 - 2) + '"}');

function origin(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const body = req.url?.startsWith('/big') ? BIG : PAYLOAD;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

function stuckOrigin(req: IncomingMessage): void {
  req.resume();
}

function slowOrigin(req: IncomingMessage, res: ServerResponse): void {
  setTimeout(() => origin(req, res), 500);
}

function bareHttpProxy(targetUrl: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const proxy = httpProxy.createProxyServer({ target: targetUrl, agent });
  proxy.on('error', (_err, _req, res) => {
    const r = res as ServerResponse;
    if (!r.headersSent) r.writeHead(502);
    r.end();
  });
  return (req: IncomingMessage, res: ServerResponse) => proxy.web(req, res);
}

function bareUndici(targetUrl: string) {
  const pool = new Pool(targetUrl, { connections: 256 });
  return (req: IncomingMessage, res: ServerResponse) => {
    const { connection: _c, 'keep-alive': _k, ...headers } = req.headers;
    pool.stream(
      { path: req.url ?? '/', method: req.method ?? 'GET', headers, body: req.method === 'GET' || req.method === 'HEAD' ? null : req },
      ({ statusCode, headers: h }) => {
        const { connection: _c2, 'keep-alive': _k2, 'transfer-encoding': _t, ...out } = h;
        res.writeHead(statusCode, out as Record<string, string>);
        return res;
      },
      (err) => {
        if (err && !res.headersSent) {
          res.writeHead(502);
          res.end();
        }
      },
    );
  };
}

/**
 * Bare undici with a copy of every request: the floor a shadow of all traffic cannot go under on
 * one core (a second upstream exchange per request), for the shadow group's ratios. For the
 * benchmark's GETs: the copy is sent without a body.
 */
function bareUndiciMirror(targetUrl: string) {
  const forward = bareUndici(targetUrl);
  const copies = new Pool(targetUrl, { connections: 256 });
  return (req: IncomingMessage, res: ServerResponse) => {
    const { connection: _c, 'keep-alive': _k, ...headers } = req.headers;
    const chunks: Buffer[] = [];
    copies.dispatch(
      { path: req.url ?? '/', method: req.method ?? 'GET', headers, body: null },
      {
        onRequestStart: () => {},
        onResponseStart: () => {},
        onResponseData: (_ctl, chunk) => void chunks.push(chunk),
        onResponseEnd: () => void Buffer.concat(chunks),
        // A copy that failed would make this floor look cheaper than it is: say so and stop.
        onResponseError: (_ctl, err) => {
          process.stderr.write(`undici-mirror: a copy failed: ${err.message}\n`);
          process.exit(1);
        },
      },
    );
    forward(req, res);
  };
}

const handler =
  kind === 'origin'
    ? origin
    : kind === 'slow-origin'
      ? slowOrigin
      : kind === 'stuck-origin'
        ? stuckOrigin
        : kind === 'http-proxy'
          ? bareHttpProxy(target!)
          : kind === 'undici'
            ? bareUndici(target!)
            : kind === 'undici-mirror'
              ? bareUndiciMirror(target!)
              : undefined;
if (!handler) {
  process.stderr.write('usage: peers.js origin|slow-origin|stuck-origin|http-proxy|undici|undici-mirror PORT [TARGET]\n');
  process.exit(2);
}
const server = createServer({ keepAliveTimeout: 65_000 }, handler);
server.listen(port, '127.0.0.1', () => process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => process.exit(0));
