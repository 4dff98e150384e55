/**
 * A TLS listener with real TLS and real clients: a test CA and certificate made by openssl,
 * node:http2 (ALPN h2), node:https and curl (HTTP/1.1 and HTTP/2 on the same port). Upstreams
 * stay HTTP/1.1 whatever the client spoke.
 */
import { writeFileSync } from 'node:fs';
import { type ClientHttp2Session, connect, constants } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { serverCert, type TestCa, testCa } from '../helpers/certs.js';
import { startGateway, type TestGateway, tempDir } from '../helpers/gateway.js';
import { curl, h2Request, jsonLines, recorder, recordingBackend } from '../helpers/http2.js';
import { send, type TestServer } from '../helpers/servers.js';

const rec = recorder();
const { seen, streams, last } = rec;

describe('TLS and HTTP/2 listeners', () => {
  let legacy: TestServer;
  let pipeline: TestServer;
  let g: TestGateway;
  let ca: TestCa;
  let caFile: string;
  let tls: number;
  const { sink, lines } = jsonLines();
  const access = () => lines.filter((l) => l.kind === 'access');

  beforeAll(async () => {
    legacy = await recordingBackend('legacy', rec);
    pipeline = await recordingBackend('pipeline', rec);
    const certs = tempDir('switchyard-certs-');
    ca = testCa(certs);
    caFile = ca.certFile;
    const server = serverCert(ca, 0x1001);
    writeFileSync(join(certs, 'server.pem'), server.cert);
    writeFileSync(join(certs, 'server-key.pem'), server.key);
    g = await startGateway({
      backends: { legacy: legacy.url, pipeline: pipeline.url },
      // Relative to the config file, which startGateway writes elsewhere: absolute paths here.
      listen: `listen:\n  address: "127.0.0.1:0"\n  tls: { cert: "${join(certs, 'server.pem')}", key: "${join(certs, 'server-key.pem')}" }`,
      rules: 'default: legacy\nroutes:\n  - { name: cmp, match: { path: "/cmp" }, backend: legacy, shadow: { percent: 100 } }\n',
      extra: 'limits: { max_header_size: 4kb, max_url_length: 1kb }',
      options: { logger: createLogger('info', sink) },
    });
    tls = g.gw.port;
  });

  afterAll(async () => {
    await g?.stop();
    await legacy?.close();
    await pipeline?.close();
  });

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
      expect(s.headers['x-forwarded-for']).toBe('127.0.0.1'); // the stream's connection, through node:http2's socket proxy
      expect(s.headers['x-custom']).toBe('yes');
      expect(Object.keys(s.headers).filter((k) => k.startsWith(':'))).toEqual([]);
      expect(r.headers['x-request-id']).toBe(s.headers['x-request-id']);
    });

    it('forwards a request body of unknown length, and one with content-length as is', async () => {
      const chunked = await h2Request(session, { ':path': '/body-chunked', ':method': 'POST' }, ['hello ', 'h2 ', 'world']);
      expect(JSON.parse(chunked.body)).toMatchObject({ body: 'hello h2 world' });
      // Buffered by the gateway (request_buffering) and sent with its length, or chunked.
      const framing = last('/body-chunked').headers;
      expect(framing['content-length'] === '14' || framing['transfer-encoding'] === 'chunked').toBe(true);
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

    it('answers CONNECT with 400 JSON on its stream, as nginx answers its authority target, and the session serves on', async () => {
      const r = await h2Request(session, { ':method': 'CONNECT', ':authority': 'example.com:443' });
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body)).toMatchObject({ code: 'SWY_ERR_CLIENT_BAD_REQUEST' });
      expect((await h2Request(session, { ':path': '/after-connect' })).status).toBe(200);
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
      await expect.poll(async () => (await send(`${g.admin}/metrics`)).body).toMatch(/switchyard_shadow_comparisons_total\{route="cmp",result="mismatch"\} 1/);
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

    it('answers a request the HTTP/1.1 parser refuses with 400 over TLS too', async () => {
      const text = await new Promise<string>((resolve, reject) => {
        let got = '';
        const c = tlsConnect({ port: tls, host: '127.0.0.1', ca: ca.cert, ALPNProtocols: ['http/1.1'] }, () =>
          c.write('GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'),
        );
        c.on('data', (d: Buffer) => (got += d.toString()));
        c.on('close', () => resolve(got));
        c.on('error', reject);
      });
      expect(text).toMatch(/^HTTP\/1\.1 400 /);
    });

    it('answers CONNECT with a path with 405 JSON and closes over TLS too', async () => {
      const text = await new Promise<string>((resolve, reject) => {
        let got = '';
        const c = tlsConnect({ port: tls, host: '127.0.0.1', ca: ca.cert, ALPNProtocols: ['http/1.1'] }, () =>
          c.write('CONNECT /tunnel HTTP/1.1\r\nHost: example.com:443\r\n\r\n'),
        );
        c.on('data', (d: Buffer) => (got += d.toString()));
        c.on('close', () => resolve(got));
        c.on('error', reject);
      });
      expect(text).toMatch(/^HTTP\/1\.1 405 /);
      expect(text).toMatch(/^allow: GET, HEAD, /im);
      expect(text).toContain('"code":"SWY_ERR_CLIENT_METHOD_NOT_ALLOWED"');
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
});
