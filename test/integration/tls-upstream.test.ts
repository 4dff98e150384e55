import { connect, createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCert } from '../helpers/certs.js';
import { startGateway, type TestGateway, tempDir } from '../helpers/gateway.js';
import { json, send } from '../helpers/servers.js';

// Upstreams stay HTTP/1.1 (issue 16), also where a TLS backend offers h2: undici 8 would
// otherwise negotiate HTTP/2 through ALPN, for primary requests and shadow copies alike.
describe('TLS backends', () => {
  let server: Http2SecureServer;
  let g: TestGateway;
  let origin: string;
  const seen: { url: string; version: string; alpn: string | false | undefined }[] = [];

  beforeAll(async () => {
    const { cert, key } = selfSignedCert(tempDir());
    // Trusted by this test process only (each test file runs in its own worker).
    setDefaultCACertificates([...getCACertificates('default'), cert]);
    server = createSecureServer({ cert, key, allowHTTP1: true }, (req: Http2ServerRequest, res: Http2ServerResponse) => {
      const alpn = 'alpnProtocol' in req.socket ? (req.socket.alpnProtocol as string | false) : undefined;
      seen.push({ url: req.url, version: req.httpVersion, alpn });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ version: req.httpVersion }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    g = await startGateway({
      backends: { legacy: origin, pipeline: origin },
      rules: 'default: legacy\nroutes:\n  - { name: mirrored, match: { path: "/mirrored" }, backend: legacy, shadow: { percent: 100 } }\n',
    });
  });

  afterAll(async () => {
    await g?.stop();
    server?.close();
  });

  it('speaks HTTP/2 to a client that asks for it (so the test tells the two apart)', async () => {
    const session = connect(origin);
    try {
      const stream = session.request({ ':path': '/probe' });
      stream.resume();
      await new Promise((r) => stream.once('end', r));
    } finally {
      session.close();
    }
    expect(seen.find((s) => s.url === '/probe')).toEqual({ url: '/probe', version: '2.0', alpn: 'h2' });
  });

  it('forwards over HTTP/1.1 to a backend that would speak HTTP/2', async () => {
    const r = await send(`${g.url}/plain`);
    expect(r.status).toBe(200);
    expect(json(r)).toEqual({ version: '1.1' });
    expect(seen.find((s) => s.url === '/plain')).toEqual({ url: '/plain', version: '1.1', alpn: 'http/1.1' });
  });

  it('sends shadow copies over HTTP/1.1 too', async () => {
    expect((await send(`${g.url}/mirrored`)).status).toBe(200);
    await expect.poll(() => seen.filter((s) => s.url === '/mirrored').length).toBe(2);
    expect(seen.filter((s) => s.url === '/mirrored').map((s) => s.version)).toEqual(['1.1', '1.1']);
  });
});
