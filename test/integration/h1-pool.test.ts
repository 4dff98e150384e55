/**
 * The gateway's own HTTP/1.1 client against raw TCP upstreams that answer as scripted: well,
 * slowly, wrongly, or not at all. Every answer the client gives comes through its handler
 * interface, as the forwarder hears it.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyUpstreamError, ERRORS } from '../../src/errors.js';
import { H1Pool, type H1Request } from '../../src/forward/h1-pool.js';

interface Upstream {
  port: number;
  /** Connections accepted so far. */
  connections: number;
  /** Each request head (and body) as it arrived, per connection. */
  received: string[];
  server: Server;
}

/** A TCP server that answers each request (once its head has arrived) with `answer(socket, n)`. */
async function upstream(answer: (s: Socket, n: number, request: string) => void): Promise<Upstream> {
  const u: Upstream = { port: 0, connections: 0, received: [], server: createServer() };
  let n = 0;
  u.server.on('connection', (s) => {
    u.connections++;
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      const request = buf.slice(0, end + 4 + len);
      buf = buf.slice(end + 4 + len);
      u.received.push(request);
      answer(s, n++, request);
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => u.server.listen(0, '127.0.0.1', r));
  u.port = (u.server.address() as { port: number }).port;
  servers.push(u.server);
  return u;
}

const servers: Server[] = [];
const pools: H1Pool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.destroy()));
  for (const s of servers.splice(0)) s.close();
});

function pool(port: number, opts: Partial<ConstructorParameters<typeof H1Pool>[1]> = {}): H1Pool {
  const p = new H1Pool(new URL(`http://127.0.0.1:${port}`), {
    connections: 4,
    connectTimeoutMs: 2000,
    responseTimeoutMs: 5000,
    keepAliveMs: 4000,
    keepAliveMaxMs: 60_000,
    ...opts,
  });
  pools.push(p);
  return p;
}

interface Heard {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The catalogue entry of a failure. */
  error?: (typeof ERRORS)[keyof typeof ERRORS];
  cause?: Error;
}

/** Sends `req` and resolves with what the handler heard, once it heard the end or an error. */
function send(p: H1Pool, req: Partial<H1Request> = {}, hooks: Partial<Dispatcher.DispatchHandler> = {}): Promise<Heard> {
  return new Promise((resolve) => {
    const heard: Heard = { status: 0, headers: {}, body: '' };
    p.dispatch(
      { path: '/', method: 'GET', headers: { host: 'example.test' }, body: null, ...req },
      {
        ...hooks,
        onResponseStart(c, status, headers, text) {
          heard.status = status;
          heard.headers = headers;
          hooks.onResponseStart?.(c, status, headers, text);
        },
        onResponseData(c, chunk) {
          heard.body += chunk.toString('latin1');
          hooks.onResponseData?.(c, chunk);
        },
        onResponseEnd: () => resolve(heard),
        onResponseError: (_c, err) => resolve({ ...heard, error: classifyUpstreamError(err), cause: err }),
      },
    );
  });
}

const ok = (body: string, extra = '') => `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

describe('the gateway HTTP/1.1 client', () => {
  it('keeps one connection for requests one after another, and writes the request as given', async () => {
    const u = await upstream((s, n) => s.write(ok(`answer ${n}`, 'X-Twice: a\r\nx-twice: b\r\n')));
    const p = pool(u.port);
    const first = await send(p, { headers: { host: 'example.test', 'x-list': ['1', '2'], connection: 'close' } });
    const second = await send(p, { method: 'POST', path: '/post?q=1', headers: {}, body: Buffer.from('{"a":1}') });
    expect(first).toMatchObject({ status: 200, body: 'answer 0', headers: { 'x-twice': ['a', 'b'] } });
    expect(second.body).toBe('answer 1');
    expect(u.connections).toBe(1);
    expect(u.received[0]).toBe('GET / HTTP/1.1\r\nhost: example.test\r\nx-list: 1\r\nx-list: 2\r\n\r\n');
    expect(u.received[1]).toBe(`POST /post?q=1 HTTP/1.1\r\nhost: 127.0.0.1:${u.port}\r\ncontent-length: 7\r\n\r\n{"a":1}`);
  });

  it('streams a chunked answer written in pieces, and passes only the final answer after a 103', async () => {
    const u = await upstream((s) => {
      s.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel');
      setImmediate(() => s.write('lo\r\n6\r\n world\r\n0\r\n\r\n'));
    });
    const p = pool(u.port);
    expect(await send(p)).toMatchObject({ status: 200, body: 'hello world' });
    expect(await send(p)).toMatchObject({ status: 200, body: 'hello world' });
    expect(u.connections).toBe(1);
  });

  it('reads an answer without a length until the upstream closes, and does not keep that connection', async () => {
    const u = await upstream((s) => s.end('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it'));
    const p = pool(u.port);
    expect(await send(p)).toMatchObject({ status: 200, body: 'all of it' });
    expect(await send(p)).toMatchObject({ status: 200, body: 'all of it' });
    expect(u.connections).toBe(2);
  });

  it('has no body after HEAD although the answer names a length', async () => {
    const u = await upstream((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n'));
    const p = pool(u.port);
    expect(await send(p, { method: 'HEAD' })).toMatchObject({ status: 200, body: '', headers: { 'content-length': '1000' } });
    expect(await send(p, { method: 'HEAD' })).toMatchObject({ status: 200 });
    expect(u.connections).toBe(1);
  });

  it('does not reuse a connection that sent bytes nobody asked for', async () => {
    const u = await upstream((s) => s.write(`${ok('one')}HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nsmug!`));
    const p = pool(u.port);
    expect(await send(p)).toMatchObject({ status: 200, body: 'one' });
    expect(await send(p)).toMatchObject({ status: 200, body: 'one' });
    expect(u.connections).toBe(2);
  });

  it('follows a Keep-Alive hint too short to reuse the connection', async () => {
    const u = await upstream((s) => s.write(ok('x', 'Keep-Alive: timeout=1\r\n')));
    const p = pool(u.port);
    await send(p);
    await send(p);
    expect(u.connections).toBe(2);
  });

  it('lets requests past `connections` wait their turn on the same connection', async () => {
    const u = await upstream((s, n) => s.write(ok(`r${n}`)));
    const p = pool(u.port, { connections: 1 });
    const all = [send(p), send(p), send(p)];
    expect(p.queued).toBe(2);
    expect((await Promise.all(all)).map((h) => h.body)).toEqual(['r0', 'r1', 'r2']);
    expect(u.connections).toBe(1);
    expect(p.queued).toBe(0);
  });

  it('names each failure with the catalogue entry the forwarder answers with', async () => {
    const closes = await upstream((s) => s.destroy());
    expect((await send(pool(closes.port))).error).toBe(ERRORS.UPSTREAM_RESET);

    const short = await upstream((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    expect(await send(pool(short.port))).toMatchObject({ status: 200, body: 'abc', error: ERRORS.UPSTREAM_RESET });

    const silent = await upstream(() => {});
    expect((await send(pool(silent.port, { responseTimeoutMs: 50 }))).error).toBe(ERRORS.UPSTREAM_RESPONSE_TIMEOUT);

    // A head sent a byte at a time is never silent for long, but is whole too late.
    const trickle = await upstream((s) => {
      const head = 'HTTP/1.1 200 OK\r\nX-Slow: 1234567890\r\n\r\n';
      let i = 0;
      const next = () => {
        if (s.destroyed || i >= head.length) return;
        s.write(head[i++]!);
        setTimeout(next, 20);
      };
      next();
    });
    expect((await send(pool(trickle.port, { responseTimeoutMs: 200 }))).error).toBe(ERRORS.UPSTREAM_RESPONSE_TIMEOUT);

    const garbage = await upstream((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc'));
    expect((await send(pool(garbage.port))).error).toBe(ERRORS.UPSTREAM_BAD_RESPONSE);

    const lf = await upstream((s) => s.write('HTTP/1.1 200 OK\nContent-Length: 3\n\nabc'));
    expect((await send(pool(lf.port))).error).toBe(ERRORS.UPSTREAM_BAD_RESPONSE);

    const huge = await upstream((s) => s.write(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(20_000)}`));
    expect((await send(pool(huge.port))).error).toBe(ERRORS.UPSTREAM_BAD_RESPONSE);

    const unasked = await upstream((s) => s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n'));
    expect((await send(pool(unasked.port))).error).toBe(ERRORS.UPSTREAM_BAD_RESPONSE);

    const gone = await upstream(() => {});
    gone.server.close();
    await new Promise((r) => gone.server.once('close', r));
    expect((await send(pool(gone.port))).error).toBe(ERRORS.UPSTREAM_REFUSED);
  });

  it('does not count time paused by the handler as the upstream being slow', async () => {
    let resumeLater: (() => void) | undefined;
    const u = await upstream((s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc');
      // The rest later, while the handler holds the response paused.
      setTimeout(() => s.write('def'), 150);
    });
    const p = pool(u.port, { responseTimeoutMs: 400 });
    const heard = await send(
      p,
      {},
      {
        onResponseData(c) {
          if (resumeLater) return;
          c.pause();
          resumeLater = () => c.resume();
          // Paused for longer than the response timeout.
          setTimeout(resumeLater, 600);
        },
      },
    );
    expect(heard).toMatchObject({ status: 200, body: 'abcdef' });
    expect(heard.error).toBeUndefined();
  });

  it('a pause still in force when a response ends does not hold the next request on the connection', async () => {
    const u = await upstream((s, n) => s.write(ok(`r${n}`)));
    const p = pool(u.port, { connections: 1, responseTimeoutMs: 2000 });
    // The forwarder pauses when its client's buffer is full, and may hear the end before the drain.
    const first = await send(p, {}, { onResponseData: (c) => c.pause() });
    const second = await send(p);
    expect([first.body, second.body]).toEqual(['r0', 'r1']);
    expect(second.error).toBeUndefined();
    expect(u.connections).toBe(1);
  });

  it('close() lets requests already waiting for a connection finish', async () => {
    const u = await upstream((s, n) => s.write(ok(`r${n}`)));
    const p = pool(u.port, { connections: 1 });
    const all = [send(p), send(p)];
    expect(p.queued).toBe(1);
    await p.close();
    expect((await Promise.all(all)).map((h) => h.body)).toEqual(['r0', 'r1']);
    expect(() => p.dispatch({ path: '/', method: 'GET', headers: {}, body: null }, {})).toThrow(/closed/);
  });

  it('a handler that throws on the end does not take the next request down with it', async () => {
    const u = await upstream((s, n) => s.write(ok(`r${n}`)));
    const p = pool(u.port, { connections: 1 });
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    const thrower = new Promise<void>((resolve) =>
      p.dispatch(
        { path: '/', method: 'GET', headers: {}, body: null },
        {
          onResponseEnd() {
            resolve();
            throw new Error('handler bug');
          },
        },
      ),
    );
    const next = send(p);
    await thrower;
    expect((await next).body).toBe('r1');
    expect((await warned).message).toBe('handler bug');
  });

  it('an endless stream of 1xx answers is not a final answer in time', async () => {
    const u = await upstream((s) => {
      const hint = () => {
        if (s.destroyed) return;
        s.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n');
        setTimeout(hint, 30);
      };
      hint();
    });
    expect((await send(pool(u.port, { responseTimeoutMs: 200 }))).error).toBe(ERRORS.UPSTREAM_RESPONSE_TIMEOUT);
  });

  it('an abort ends the exchange with its reason and closes the connection', async () => {
    const u = await upstream(() => {});
    const p = pool(u.port);
    const reason = Object.assign(new Error('client went away'), { code: 'UND_ERR_ABORTED' });
    const heard = await send(p, {}, { onRequestStart: (c) => setImmediate(() => c.abort(reason)) });
    expect(heard.cause).toBe(reason);
    expect(heard.error).toBe(ERRORS.CLIENT_ABORTED);
  });

  it('destroy() fails what runs and waits as the gateway’s doing, not the upstream’s, and settles a close() waiting', async () => {
    const u = await upstream(() => {});
    const p = pool(u.port, { connections: 1 });
    const running = send(p);
    const waiting = send(p);
    await new Promise<void>((r) => (u.received.length > 0 ? r() : u.server.once('connection', (s) => s.once('data', () => r()))));
    const closing = p.close();
    await p.destroy();
    await closing;
    expect((await running).error).toBe(ERRORS.UPSTREAM_FAILED);
    expect((await waiting).error).toBe(ERRORS.UPSTREAM_FAILED);
  });

  it('a head that is whole only after the response timeout is late, even when no wait was that long', async () => {
    // Every wait under the limit; the whole head past it.
    const u = await upstream((s) => {
      const parts = ['HTTP/1.1 200 OK\r\n', 'X-A: 1\r\n', 'X-B: 2\r\n', 'X-C: 3\r\n', 'Content-Length: 0\r\n\r\n'];
      const next = () => {
        if (s.destroyed || parts.length === 0) return;
        s.write(parts.shift()!);
        setTimeout(next, 80);
      };
      next();
    });
    expect((await send(pool(u.port, { responseTimeoutMs: 250 }))).error).toBe(ERRORS.UPSTREAM_RESPONSE_TIMEOUT);
  });

  it('writes Host first when it is the client’s, and a number as text', async () => {
    const u = await upstream((s) => s.write(ok('x')));
    await send(pool(u.port), { headers: { 'x-n': 5 as unknown as string } });
    expect(u.received[0]).toBe(`GET / HTTP/1.1\r\nhost: 127.0.0.1:${u.port}\r\nx-n: 5\r\n\r\n`);
  });

  it('refuses to write a header that would split the request', () => {
    const p = pool(1);
    expect(() => p.dispatch({ path: '/', method: 'GET', headers: { 'x-a': 'v\r\nx-injected: 1' }, body: null }, {})).toThrow(/invalid value/);
    expect(() => p.dispatch({ path: '/ HTTP/1.1\r\n', method: 'GET', headers: {}, body: null }, {})).toThrow(/invalid request target/);
    expect(() => p.dispatch({ path: '/', method: 'GET', headers: { 'x a': 'v' }, body: null }, {})).toThrow(/invalid header name/);
    // As undici: origin-form or absolute-form only.
    expect(() => p.dispatch({ path: '*', method: 'OPTIONS', headers: {}, body: null }, {})).toThrow(/start with a slash/);
    expect(() => p.dispatch({ path: 'example.com:443', method: 'CONNECT', headers: {}, body: null }, {})).toThrow(/start with a slash/);
  });
});
