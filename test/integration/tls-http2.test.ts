/**
 * The client side with real TLS and real HTTP/2 clients: one gateway with three listeners
 * (plain, plain with h2c, TLS), a test CA, node:http2, node:https and curl. Upstreams stay
 * HTTP/1.1 whatever the client spoke.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { constants, connect, type ClientHttp2Session, type IncomingHttpHeaders as H2Headers } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../src/config/gateway-config.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { createLogger } from '../../src/log/logger.js';
import { serverCert, testCa, type TestCa } from '../helpers/certs.js';
import { silentLogger, startGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { send, startServer, type TestServer } from '../helpers/servers.js';

const run = promisify(execFile);

interface Seen {
  backend: string;
  method: string;
  url: string;
  version: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const seen: Seen[] = [];
/** Set when the backend's /stream response was torn down before it ended. */
const streams = { started: 0, closedEarly: 0 };

function backend(name: string): Promise<TestServer> {
  return startServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/stream') {
      streams.started++;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk\n');
      res.once('close', () => {
        if (!res.writableEnded) streams.closedEarly++;
      });
      return; // never ends on its own
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ backend: name, method: req.method!, url: req.url!, version: req.httpVersion, headers: req.headers, body });
      if (req.url === '/hop') {
        // Connection-specific headers that HTTP/2 forbids (RFC 9113 §8.2.2).
        res.writeHead(200, { connection: 'keep-alive', 'keep-alive': 'timeout=5', 'x-ok': '1' });
        res.write('chunked ');
        return void res.end('body');
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ backend: name, url: req.url, body }));
    });
  });
}

interface H2Reply {
  status: number;
  headers: H2Headers;
  body: string;
}

function h2Request(session: ClientHttp2Session, headers: Record<string, string>, body?: string | string[]): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let text = '';
    let got: H2Headers = {};
    stream.setEncoding('utf8');
    stream.on('response', (h) => (got = h));
    stream.on('data', (c: string) => (text += c));
    stream.on('end', () => resolve({ status: Number(got[':status']), headers: got, body: text }));
    stream.on('error', reject);
    if (typeof body === 'string') stream.end(body);
    else if (body) {
      for (const part of body) stream.write(part);
      stream.end();
    }
  });
}

/** curl, printing the body, then a last line "STATUS HTTP_VERSION". */
async function curl(args: string[]): Promise<{ status: number; version: string; body: string }> {
  const { stdout } = await run('curl', ['-sS', '--max-time', '10', '-w', '\n%{http_code} %{http_version}', ...args]);
  const cut = stdout.lastIndexOf('\n');
  const [status, version] = stdout.slice(cut + 1).split(' ');
  return { status: Number(status), version: version!, body: stdout.slice(0, cut) };
}

describe('TLS and HTTP/2 listeners', () => {
  let legacy: TestServer;
  let pipeline: TestServer;
  let g: TestGateway;
  let ca: TestCa;
  let caFile: string;
  let plain: number;
  let h2c: number;
  let tls: number;
  const lines: Record<string, unknown>[] = [];
  const access = () => lines.filter((l) => l.kind === 'access');

  beforeAll(async () => {
    legacy = await backend('legacy');
    pipeline = await backend('pipeline');
    const certs = tempDir('switchyard-certs-');
    ca = testCa(certs);
    caFile = ca.certFile;
    const server = serverCert(ca, 0x1001);
    writeFileSync(join(certs, 'server.pem'), server.cert);
    writeFileSync(join(certs, 'server-key.pem'), server.key);
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    g = await startGateway({
      backends: { legacy: legacy.url, pipeline: pipeline.url },
      listen: [
        'listen:',
        '  - "127.0.0.1:0"',
        '  - { address: "127.0.0.1:0", h2c: true }',
        `  - { address: "127.0.0.1:0", tls: { cert: "${join(certs, 'server.pem')}", key: "${join(certs, 'server-key.pem')}" } }`,
      ].join('\n'),
      rules: 'default: legacy\nroutes:\n  - { name: cmp, match: { path: "/cmp" }, backend: legacy, shadow: { percent: 100 } }\n',
      extra: 'limits: { max_header_size: 4kb, max_url_length: 1kb }',
      options: { logger: createLogger('info', sink) },
    });
    [plain, h2c, tls] = g.gw.ports as [number, number, number];
  });

  afterAll(async () => {
    await g?.stop();
    await legacy?.close();
    await pipeline?.close();
  });

  const last = (url: string) => seen.filter((s) => s.url === url).at(-1)!;

  describe('HTTP/2 over TLS (node:http2, ALPN h2)', () => {
    let session: ClientHttp2Session;
    beforeAll(() => {
      session = connect(`https://127.0.0.1:${tls}`, { ca: ca.cert });
    });
    afterAll(() => session?.close());

    it('forwards over HTTP/1.1 with Host from :authority, no pseudo-headers, and x-forwarded-proto https', async () => {
      const r = await h2Request(session, { ':path': '/echo?q=1', 'x-custom': 'yes' });
      expect(r.status).toBe(200);
      expect(session.alpnProtocol).toBe('h2');
      expect(JSON.parse(r.body)).toMatchObject({ backend: 'legacy', url: '/echo?q=1' });
      const s = last('/echo?q=1');
      expect(s.version).toBe('1.1');
      expect(s.headers.host).toBe(`127.0.0.1:${tls}`);
      expect(s.headers['x-forwarded-proto']).toBe('https');
      expect(s.headers['x-custom']).toBe('yes');
      expect(Object.keys(s.headers).filter((k) => k.startsWith(':'))).toEqual([]);
      expect(r.headers['x-request-id']).toBe(s.headers['x-request-id']);
    });

    it('streams a request body of unknown length upstream (chunked) and one with content-length as is', async () => {
      const chunked = await h2Request(session, { ':path': '/body-chunked', ':method': 'POST' }, ['hello ', 'h2 ', 'world']);
      expect(JSON.parse(chunked.body)).toMatchObject({ body: 'hello h2 world' });
      expect(last('/body-chunked').headers['transfer-encoding']).toBe('chunked');
      const sized = await h2Request(session, { ':path': '/body-sized', ':method': 'PUT', 'content-length': '5' }, 'sized');
      expect(JSON.parse(sized.body)).toMatchObject({ body: 'sized' });
      expect(last('/body-sized').headers['content-length']).toBe('5');
      expect(last('/body-sized').headers['transfer-encoding']).toBeUndefined();
    });

    it('drops the connection-specific headers of an upstream response instead of failing it', async () => {
      const r = await h2Request(session, { ':path': '/hop' });
      expect(r.status).toBe(200);
      expect(r.body).toBe('chunked body');
      expect(r.headers['x-ok']).toBe('1');
      expect(r.headers.connection).toBeUndefined();
      expect(r.headers['keep-alive']).toBeUndefined();
    });

    it('applies the admission limits: 431 for a header block over max_header_size, 414 for a long path', async () => {
      const big = await h2Request(session, { ':path': '/big', 'x-big': 'a'.repeat(5000) });
      expect(big.status).toBe(431);
      expect(JSON.parse(big.body)).toMatchObject({ error: expect.any(String) });
      const long = await h2Request(session, { ':path': '/' + 'p'.repeat(2000) });
      expect(long.status).toBe(414);
      // Local replies (which ask for connection: close on HTTP/1.1) leave the session usable.
      expect((await h2Request(session, { ':path': '/after' })).status).toBe(200);
    });

    it('shadows a route and compares the answers, as over HTTP/1.1', async () => {
      const before = seen.filter((s) => s.url === '/cmp').length;
      expect((await h2Request(session, { ':path': '/cmp' })).status).toBe(200);
      await expect.poll(() => seen.filter((s) => s.url === '/cmp').length).toBe(before + 2);
      const copy = seen.filter((s) => s.url === '/cmp' && s.backend === 'pipeline').at(-1)!;
      expect(copy.headers['x-switchyard-shadow']).toBe('1');
      expect(copy.headers['x-forwarded-proto']).toBe('https');
      expect(Object.keys(copy.headers).filter((k) => k.startsWith(':'))).toEqual([]);
      // The two backends answer with their own names: a mismatch, counted once.
      await expect
        .poll(async () => (await send(`${g.admin}/metrics`)).body)
        .toMatch(/switchyard_shadow_comparisons_total\{route="cmp",result="mismatch"\} 1/);
    });

    it('cancels the upstream request when the client resets the stream mid-response', async () => {
      const closedBefore = streams.closedEarly;
      const stream = session.request({ ':path': '/stream' }, { endStream: true });
      await new Promise<void>((resolve) => stream.once('data', () => resolve()));
      stream.close(constants.NGHTTP2_CANCEL);
      await expect.poll(() => streams.closedEarly).toBe(closedBefore + 1);
      await expect.poll(() => access().some((l) => l.path === '/stream' && l.error === 'client_aborted')).toBe(true);
      expect((await h2Request(session, { ':path': '/still-fine' })).status).toBe(200);
    });

    it('logs the protocol and the request bytes of the stream', async () => {
      await h2Request(session, { ':path': '/logged', ':method': 'POST', 'content-length': '4' }, 'four');
      await expect.poll(() => access().find((l) => l.path === '/logged')).toBeDefined();
      const line = access().find((l) => l.path === '/logged')!;
      expect(line).toMatchObject({ protocol: 'HTTP/2.0', method: 'POST', status: 200 });
      // The header block as HTTP/1.1 would spell it, plus the 4-byte body.
      expect(line.bytes_in).toBeGreaterThan(4 + ':path/logged'.length);
    });
  });

  describe('HTTP/1.1 over TLS on the same port', () => {
    it('serves a client without ALPN (node:https) with x-forwarded-proto https', async () => {
      const r = await new Promise<{ status: number; alpn: string | false }>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port: tls, path: '/h1-tls', ca: ca.cert, agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, alpn: (res.socket as unknown as { alpnProtocol: string | false }).alpnProtocol }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(r).toEqual({ status: 200, alpn: false });
      expect(last('/h1-tls').headers['x-forwarded-proto']).toBe('https');
      await expect.poll(() => access().find((l) => l.path === '/h1-tls')).toMatchObject({ protocol: 'HTTP/1.1' });
    });

    it('negotiates http/1.1 or h2 by ALPN with curl', async () => {
      const h1 = await curl(['--http1.1', '--cacert', caFile, `https://127.0.0.1:${tls}/curl-h1`]);
      expect(h1).toMatchObject({ status: 200, version: '1.1' });
      const h2 = await curl(['--http2', '--cacert', caFile, `https://127.0.0.1:${tls}/curl-h2`]);
      expect(h2).toMatchObject({ status: 200, version: '2' });
      expect(JSON.parse(h2.body)).toMatchObject({ backend: 'legacy', url: '/curl-h2' });
      expect(last('/curl-h2').version).toBe('1.1');
    });

    it('refuses TLS below 1.2', async () => {
      // The same client does TLS 1.1 with a server that allows it, so the refusal is the gateway's.
      const attempt = (port: number) =>
        new Promise<string>((resolve) => {
          const c = tlsConnect({ port, host: '127.0.0.1', ca: ca.cert, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
          c.on('secureConnect', () => {
            resolve(String(c.getProtocol()));
            c.destroy();
          });
          c.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        });
      const old = serverCert(ca, 0x1002);
      const lenient = createTlsServer({ cert: old.cert, key: old.key, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, (s) => s.end());
      await new Promise<void>((r) => lenient.listen(0, '127.0.0.1', r));
      try {
        expect(await attempt((lenient.address() as AddressInfo).port)).toBe('TLSv1.1');
      } finally {
        lenient.close();
      }
      expect(await attempt(tls)).toMatch(/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/);
    });
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
      sock.write('GET /upgrade-other HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: foo/2, h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n');
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
    const origin = await backend('origin');
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
      const s = seen.filter((x) => x.url === '/api/h2-pipeline').at(-1)!;
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
      expect(seen.filter((x) => x.url === '/api/h1-pipeline').at(-1)).toMatchObject({ body: 'chunked over h1' });
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
