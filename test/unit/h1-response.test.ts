import { describe, expect, it } from 'vitest';
import { bodyFraming, ChunkedDecoder, keepAliveHintMs, keepsAlive, parseResponseHead, ResponseError } from '../../src/http/h1-response.js';

const head = (text: string) => parseResponseHead(text);

/** Feeds `wire` to a decoder split at every position in `cuts`: the body and where it ended. */
function decode(wire: string, cuts: number[] = []): { body: string; end: number } {
  const buf = Buffer.from(wire, 'latin1');
  const d = new ChunkedDecoder();
  const out: Buffer[] = [];
  let at = 0;
  for (const cut of [...cuts, buf.length]) {
    const end = d.push(buf.subarray(at, cut), out);
    if (end >= 0) return { body: Buffer.concat(out).toString('latin1'), end: at + end };
    at = cut;
  }
  return { body: Buffer.concat(out).toString('latin1'), end: -1 };
}

describe('response head', () => {
  it('reads the status, reason, version and headers, repeats as arrays in order', () => {
    const h = head('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nX-Empty:\r\nX-Pad: \t v \t');
    expect(h).toEqual({
      status: 200,
      statusText: 'OK',
      http10: false,
      headers: { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'], 'x-empty': '', 'x-pad': 'v' },
    });
    expect(head('HTTP/1.0 404').statusText).toBe('');
    expect(head('HTTP/1.0 404').http10).toBe(true);
    expect(head('HTTP/1.1 503 Service Unavailable').statusText).toBe('Service Unavailable');
  });

  it('reads headers named like Object.prototype members as headers', () => {
    const h = head('HTTP/1.1 200 OK\r\nConstructor: a\r\nconstructor: b\r\n__proto__: c\r\ntoString: d');
    expect(h.headers.constructor).toEqual(['a', 'b']);
    expect(h.headers.__proto__).toBe('c');
    expect(h.headers.tostring).toBe('d');
    // And inherits none: a header that was not sent is not there.
    const bare = head('HTTP/1.1 200 OK\r\nX-A: 1').headers;
    expect(bare.constructor).toBeUndefined();
    expect('toString' in bare).toBe(false);
    expect(Object.keys(bare)).toEqual(['x-a']);
  });

  it('keeps obs-text bytes of a value as they are', () => {
    expect(head('HTTP/1.1 200 OK\r\nx-l1: caf\xe9').headers['x-l1']).toBe('caf\xe9');
  });

  it.each([
    ['not HTTP', 'SSH-2.0-OpenSSH'],
    ['HTTP/2 status line', 'HTTP/2 200 OK'],
    ['two-digit status', 'HTTP/1.1 20 OK'],
    ['status glued to the reason', 'HTTP/1.1 200OK'],
    ['control byte in the reason', 'HTTP/1.1 200 O\x01K'],
    ['no colon', 'HTTP/1.1 200 OK\r\nX-Bad'],
    ['space before the colon', 'HTTP/1.1 200 OK\r\nContent-Length : 5'],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded'],
    ['bare LF inside a line', 'HTTP/1.1 200 OK\r\nX-A: 1\nX-B: 2'],
    ['bare CR inside a value', 'HTTP/1.1 200 OK\r\nX-A: 1\rX-B: 2'],
    ['bare CR at the end of a value', 'HTTP/1.1 200 OK\r\nX-A: 1\r'],
    ['bare LF in the status line', 'HTTP/1.1 200 O\nK\r\nX-A: 1'],
    ['DEL in a value', 'HTTP/1.1 200 OK\r\nX-A: a\x7fb'],
    ['NUL in a value', 'HTTP/1.1 200 OK\r\nX-A: a\x00b'],
    ['non-token name', 'HTTP/1.1 200 OK\r\nX(A): 1'],
    ['empty name', 'HTTP/1.1 200 OK\r\n: 1'],
  ])('refuses %s', (_name, text) => {
    expect(() => head(text)).toThrow(ResponseError);
  });
});

describe('body framing (RFC 9112 §6.3)', () => {
  it('has no body after HEAD, 204 and 304, whatever the headers say', () => {
    expect(bodyFraming('HEAD', head('HTTP/1.1 200 OK\r\nContent-Length: 10'))).toEqual({ kind: 'none' });
    expect(bodyFraming('GET', head('HTTP/1.1 204 No Content\r\nContent-Length: 10'))).toEqual({ kind: 'none' });
    expect(bodyFraming('GET', head('HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked'))).toEqual({ kind: 'none' });
  });

  it('reads chunked when it is the last coding, else until the connection closes', () => {
    expect(bodyFraming('GET', head('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked'))).toEqual({ kind: 'chunked' });
    expect(bodyFraming('GET', head('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked'))).toEqual({ kind: 'chunked' });
    expect(bodyFraming('GET', head('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip'))).toEqual({ kind: 'close' });
    expect(bodyFraming('GET', head('HTTP/1.1 200 OK'))).toEqual({ kind: 'close' });
  });

  it('takes Content-Length, once or repeated with the same value', () => {
    expect(bodyFraming('GET', head('HTTP/1.1 200 OK\r\nContent-Length: 42'))).toEqual({ kind: 'length', length: 42 });
    expect(bodyFraming('GET', head('HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\nContent-Length: 7'))).toEqual({ kind: 'length', length: 7 });
  });

  it('makes a repeated Content-Length one value, so that any client reads it alike', () => {
    const h = head('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2');
    expect(bodyFraming('GET', h)).toEqual({ kind: 'length', length: 2 });
    expect(h.headers['content-length']).toBe('2');
    const listed = head('HTTP/1.1 200 OK\r\nContent-Length: 2, 2');
    bodyFraming('HEAD', listed);
    expect(listed.headers['content-length']).toBe('2');
  });

  it('checks Content-Length on answers without a body too', () => {
    expect(() => bodyFraming('HEAD', head('HTTP/1.1 200 OK\r\nContent-Length: 12abc'))).toThrow(ResponseError);
    expect(() => bodyFraming('GET', head('HTTP/1.1 304 Not Modified\r\nContent-Length: 1\r\nTransfer-Encoding: chunked'))).toThrow(ResponseError);
  });

  it.each([
    ['Content-Length with Transfer-Encoding', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked'],
    ['two different lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6'],
    ['a signed length', 'HTTP/1.1 200 OK\r\nContent-Length: +5'],
    ['a hex length', 'HTTP/1.1 200 OK\r\nContent-Length: 0x5'],
    ['an empty length', 'HTTP/1.1 200 OK\r\nContent-Length: '],
    ['a length past 2^53', 'HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999'],
    ['chunked twice', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked'],
  ])('refuses %s', (_name, text) => {
    expect(() => bodyFraming('GET', head(text))).toThrow(ResponseError);
  });
});

describe('keep-alive', () => {
  it('keeps HTTP/1.1 unless told to close, HTTP/1.0 only when asked', () => {
    expect(keepsAlive(head('HTTP/1.1 200 OK'))).toBe(true);
    expect(keepsAlive(head('HTTP/1.1 200 OK\r\nConnection: Close'))).toBe(false);
    expect(keepsAlive(head('HTTP/1.0 200 OK'))).toBe(false);
    expect(keepsAlive(head('HTTP/1.0 200 OK\r\nConnection: keep-alive'))).toBe(true);
    // Whole tokens only.
    expect(keepsAlive(head('HTTP/1.1 200 OK\r\nConnection: x-closed'))).toBe(true);
    expect(keepsAlive(head('HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE'))).toBe(false);
    expect(keepsAlive(head('HTTP/1.0 200 OK\r\nConnection: not-keep-alive'))).toBe(false);
    // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding is the last on its connection.
    expect(keepsAlive(head('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked'))).toBe(false);
  });

  it('reads the Keep-Alive timeout hint in milliseconds', () => {
    expect(keepAliveHintMs(head('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100'))).toBe(5000);
    expect(keepAliveHintMs(head('HTTP/1.1 200 OK\r\nKeep-Alive: max=100'))).toBeUndefined();
    expect(keepAliveHintMs(head('HTTP/1.1 200 OK'))).toBeUndefined();
  });
});

describe('chunked decoder', () => {
  const wire = '5\r\nhello\r\n1;name="x y"\r\n \r\nA \r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n';

  it('decodes a body with extensions and trailers, and says where it ended', () => {
    expect(decode(wire + 'NEXT')).toEqual({ body: 'hello 0123456789', end: wire.length });
  });

  it('gives the same body however the wire is split', () => {
    for (let a = 1; a < wire.length; a++) {
      for (const b of [a + 1, a + 3, wire.length - 1]) {
        if (b <= a || b >= wire.length) continue;
        expect(decode(wire, [a, b])).toEqual({ body: 'hello 0123456789', end: wire.length });
      }
    }
  });

  it('is not done before the blank line after the last chunk', () => {
    expect(decode('0\r\n').end).toBe(-1);
    expect(decode('0\r\nX-T: 1\r\n').end).toBe(-1);
    expect(decode('0\r\n\r\n').end).toBe(5);
  });

  it.each([
    ['a chunk longer than its size', '3\r\nhello\r\n0\r\n\r\n'],
    ['no size', '\r\nhello\r\n'],
    ['a non-hex size', 'g\r\n'],
    ['a signed size', '-5\r\n'],
    ['a size past 12 hex digits', '1000000000000\r\n'],
    ['a bare LF after the size', '5\nhello\r\n'],
    ['a bare LF in the trailers', '0\r\nX: 1\n\r\n'],
    ['an endless size line', `5;${'x'.repeat(5000)}\r\n`],
    ['an endless trailer section', `0\r\n${'X: 1\r\n'.repeat(1000)}\r\n`],
  ])('refuses %s', (_name, text) => {
    expect(() => decode(text)).toThrow(ResponseError);
  });
});
