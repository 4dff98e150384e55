import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { metric } from '../helpers/metrics.js';
import { rawExchange, wholeResponse } from '../helpers/raw.js';
import { echoBackend, send, type TestServer } from '../helpers/servers.js';

describe('bad input', () => {
  let legacy: TestServer;
  let g: TestGateway;
  const seen: string[] = [];

  beforeAll(async () => {
    legacy = await echoBackend('legacy');
    legacy.server.on('request', (req) => seen.push(`${req.method} ${req.url}`));
    g = await startGateway({
      backends: { legacy: legacy.url },
      rules: 'default: legacy\n',
      extra: 'limits:\n  max_url_length: 8kb\n  max_header_size: 32kb\n  headers_timeout: 1s',
    });
  });
  afterAll(async () => {
    await g.stop();
    await legacy.close();
  });

  const port = () => g.gw.port;

  // Every case also checks that a well-formed request on another connection still works.
  async function stillServing() {
    expect((await send(g.url + '/ok')).status).toBe(200);
  }

  it.each([
    ['a malformed request line', 'GARBAGE\r\n\r\n', 400, 'bad_request'],
    ['an HTTP/1.1 request without a Host', 'GET / HTTP/1.1\r\n\r\n', 400, 'bad_request'],
    ['an invalid header name', 'GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n', 400, 'bad_request'],
    ['a control character in a header value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x01b\r\n\r\n', 400, 'bad_request'],
    [
      'Content-Length together with Transfer-Encoding',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'bad_request',
    ],
    ['two different Content-Length values', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', 400, 'bad_request'],
    ['a Trailer header on a GET', 'GET /t HTTP/1.1\r\nHost: a\r\nTrailer: x-checksum\r\n\r\n', 400, 'bad_request'],
    ['a request target that is not a path', 'GET foo HTTP/1.1\r\nHost: a\r\n\r\n', 400, 'bad_request'],
    ['a URL over the limit', `GET /${'a'.repeat(9 * 1024)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414, 'uri_too_long'],
    ['a URL over the header limit', `GET /${'a'.repeat(40 * 1024)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414, 'uri_too_long'],
    [
      'headers over the limit',
      `GET / HTTP/1.1\r\nHost: a\r\n${Array.from({ length: 40 }, (_, i) => `X-${i}: ${'v'.repeat(1000)}`).join('\r\n')}\r\n\r\n`,
      431,
      'headers_too_large',
    ],
  ])('answers %s with %i, counts it as %s, and closes only that connection', async (_name, data, status, reason) => {
    const before = seen.length;
    const counted = () => metric(g.admin, 'switchyard_client_errors_total', { reason });
    const countedBefore = await counted();
    const r = await rawExchange(port(), data);
    expect(r.status).toBe(status);
    expect(r.closed).toBe(true);
    expect(r.text).toMatch(/"code":"SWY_ERR_CLIENT_/);
    expect(seen.length).toBe(before); // nothing reached the backend
    await expect.poll(counted).toBe(countedBefore + 1);
    await stillServing();
  });

  it('answers 408 and closes when the headers never finish', async () => {
    // headers_timeout is 1s; the exchange ends when the gateway closes, 10s is only a cap.
    const r = await rawExchange(port(), 'GET / HTTP/1.1\r\nHost: a\r\n', 10_000);
    expect(r.status).toBe(408);
    expect(r.closed).toBe(true);
    await stillServing();
  });

  it('survives a client that sends half a body and goes away, and lets the request go', async () => {
    const inFlight = () => metric(g.admin, 'switchyard_requests_in_flight');
    const before = await inFlight();
    const s = connect(port(), '127.0.0.1', () => s.write('POST /half HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\nonly ten b'));
    // Go away once the gateway has the request in hand, mid-body.
    await expect.poll(inFlight).toBe(before + 1);
    s.destroy();
    await expect.poll(inFlight).toBe(before);
    await stillServing();
  });

  it('keeps a connection usable after a chunked request with proper trailers', async () => {
    const r = await rawExchange(
      port(),
      'POST /chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\r\n5\r\nhello\r\n0\r\nx-sum: 1\r\n\r\n',
      { until: wholeResponse },
    );
    expect(r.status).toBe(200);
    expect(r.closed).toBe(false);
    expect(r.text).toContain('"body":"hello"');
  });
});

describe('absolute-form request targets', () => {
  it('routes and forwards them in origin-form, with the target authority as Host', async () => {
    const legacy = await echoBackend('legacy');
    const g = await startGateway({
      backends: { legacy: legacy.url },
      rules: 'default: legacy\nroutes:\n  - { name: api, match: { host: "api.example", path: "/v1/**" }, backend: legacy }\n',
    });
    try {
      // node:http sends `path` as given: here an absolute-form request line.
      const body = await new Promise<{ url: string; headers: Record<string, string> }>((resolve, reject) => {
        request({ host: '127.0.0.1', port: g.gw.port, path: 'http://api.example/v1/items?x=1', headers: { host: 'other.example' }, agent: false }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(JSON.parse(text)));
        })
          .on('error', reject)
          .end();
      });
      expect(body.url).toBe('/v1/items?x=1');
      expect(body.headers.host).toBe('api.example');
      expect(body.headers['x-switchyard-route']).toBe('api');
    } finally {
      await g.stop();
      await legacy.close();
    }
  });
});
