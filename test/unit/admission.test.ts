import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';
import { absoluteForm, admit, connectError } from '../../src/http/admission.js';
import { classifyClientError } from '../../src/http/client-errors.js';

/** The fields admit() reads of an HTTP/1.x request. */
function request(line: { method?: string; url: string; version?: [number, number]; headers?: Record<string, string>; fields?: number }): IncomingMessage {
  const [major, minor] = line.version ?? [1, 1];
  const headers = line.headers ?? { host: 'a' };
  const rawHeaders = Object.entries(headers).flat();
  for (let i = rawHeaders.length / 2; i < (line.fields ?? 0); i++) rawHeaders.push(`x-${i}`, 'v');
  return { method: line.method ?? 'GET', url: line.url, httpVersionMajor: major, httpVersionMinor: minor, headers, rawHeaders } as unknown as IncomingMessage;
}

const LIMITS = { maxUrlBytes: 8192, maxHeaderCount: 10 };

describe('admit', () => {
  it.each([
    ['HTTP/1.1', [1, 1], undefined],
    ['HTTP/1.0', [1, 0], undefined],
    ['HTTP/2.0 in a request line', [2, 0], ERRORS.CLIENT_HTTP_VERSION],
    ['HTTP/0.9', [0, 9], ERRORS.CLIENT_BAD_REQUEST],
  ] as const)('%s', (_name, version, want) => {
    expect(admit(request({ url: '/', version: [...version] }), LIMITS)).toBe(want);
  });

  it('refuses CONNECT to an authority (or none) with 400, as nginx; CONNECT with a path goes on to the method rules', () => {
    for (const url of ['example.com:443', '']) expect(admit(request({ method: 'CONNECT', url }), LIMITS)).toBe(ERRORS.CLIENT_BAD_REQUEST);
    expect(admit(request({ method: 'CONNECT', url: '/x' }), LIMITS)).toBeUndefined();
    expect(connectError('/x')).toBe(ERRORS.CLIENT_METHOD_NOT_ALLOWED);
    expect(ERRORS.CLIENT_METHOD_NOT_ALLOWED.headers).toEqual({ allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE' });
  });

  it('refuses more header fields than the limit with 431, the limit itself passes', () => {
    expect(admit(request({ url: '/', fields: 10 }), LIMITS)).toBeUndefined();
    expect(admit(request({ url: '/', fields: 11 }), LIMITS)).toBe(ERRORS.CLIENT_HEADERS_TOO_LARGE);
  });

  it('refuses an absolute-form target that is no http(s) URI with 400', () => {
    expect(admit(request({ url: 'http://shop.example/x' }), LIMITS)).toBeUndefined();
    expect(admit(request({ url: 'http://[bad/x' }), LIMITS)).toBe(ERRORS.CLIENT_BAD_REQUEST);
  });
});

describe('absoluteForm', () => {
  it.each([
    ['http://shop.example/a/b?q=1', { path: '/a/b?q=1', host: 'shop.example' }],
    ['https://shop.example:8443', { path: '/', host: 'shop.example:8443' }],
    ['http://127.0.0.1:8080/x', { path: '/x', host: '127.0.0.1:8080' }],
    ['http://[::1]:8080/x', { path: '/x', host: '[::1]:8080' }],
    ['http://a:/x', { path: '/x', host: 'a' }],
    ['http://shop.example/x#frag', { path: '/x', host: 'shop.example' }],
    // Kept byte for byte, as nginx keeps it: resolving dot segments first would hide them from
    // the WAF behind the gateway (found by the differential fuzz on the pipeline's own copy).
    ['http://shop.example/static/../etc/passwd', { path: '/static/../etc/passwd', host: 'shop.example' }],
    ['http://shop.example/a/%2e%2e//b?q=../x', { path: '/a/%2e%2e//b?q=../x', host: 'shop.example' }],
    ['http://shop.example?q=1', { path: '/?q=1', host: 'shop.example' }],
  ])('%s → origin-form and Host', (url, want) => {
    expect(absoluteForm(url)).toEqual(want);
  });

  it.each([
    ['http:///x', 'an empty host (WHATWG URL would take "x" for it)'],
    ['http://', 'no host at all'],
    ['http://user@shop.example/x', 'userinfo'],
    ['http://user@/x', 'userinfo and no host'],
    ['http://%41/x', 'percent-encoding in the host'],
    ['http://a:65536/x', 'a port out of range'],
    ['http://a:8x/x', 'a port that is no number'],
    ['http://[::1/x', 'an unclosed IP literal'],
    ['http://[zz]/x', 'an IP literal that is none'],
    ['http://256.1.1.1/x', 'an IPv4 address out of range'],
    ['http://a b/x', 'a space'],
  ])('%s is no URI: %s', (url) => {
    expect(absoluteForm(url)).toBeUndefined();
  });
});

describe('classifyClientError: a version the parser refused', () => {
  const refused = (line: string) =>
    classifyClientError(Object.assign(new Error('Invalid HTTP version'), { code: 'HPE_INVALID_VERSION', rawPacket: Buffer.from(line) }), 8192);
  it('505 for a major version past 1, as nginx; 400 for any other', () => {
    expect(refused('GET / HTTP/3.0\r\nHost: a\r\n\r\n')).toBe(ERRORS.CLIENT_HTTP_VERSION);
    expect(refused('GET / HTTP/9.9\r\n\r\n')).toBe(ERRORS.CLIENT_HTTP_VERSION);
    expect(refused('GET / HTTP/1.2\r\nHost: a\r\n\r\n')).toBe(ERRORS.CLIENT_BAD_REQUEST);
    expect(refused('GET / HTTP/0.1\r\n\r\n')).toBe(ERRORS.CLIENT_BAD_REQUEST);
  });
});
