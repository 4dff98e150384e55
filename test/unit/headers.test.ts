import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { upstreamRequestHeaders, withoutHopByHop } from '../../src/http/headers.js';

const input = (headers: IncomingHttpHeaders, more: Partial<Parameters<typeof upstreamRequestHeaders>[0]> = {}) =>
  upstreamRequestHeaders({ headers, remoteAddress: '10.0.0.7', protocol: 'http', trustForwarded: false, requestId: 'req-1', route: 'api', ...more });

describe('upstream request headers', () => {
  it('drops every hop-by-hop header of RFC 9110 §7.6.1, and the proxy-only ones', () => {
    const out = input({
      host: 'shop.example',
      connection: 'keep-alive',
      'keep-alive': 'timeout=5',
      'proxy-connection': 'keep-alive',
      te: 'trailers',
      trailer: 'x-sum',
      'transfer-encoding': 'chunked',
      upgrade: 'h2c',
      expect: '100-continue',
      'proxy-authorization': 'Basic c2VjcmV0',
      accept: 'application/json',
    });
    expect(Object.keys(out).sort()).toEqual([
      'accept',
      'host',
      'x-forwarded-for',
      'x-forwarded-host',
      'x-forwarded-proto',
      'x-request-id',
      'x-switchyard-route',
    ]);
  });

  it('drops the headers the Connection header names, whatever their case and spacing', () => {
    const out = input({ connection: 'close, X-Hop ,x-other,, ', 'x-hop': '1', 'x-other': '2', 'x-kept': '3' });
    expect(out['x-hop']).toBeUndefined();
    expect(out['x-other']).toBeUndefined();
    expect(out['x-kept']).toBe('3');
    // A listed end-to-end header is dropped too: the client declared it hop-by-hop.
    expect(input({ connection: 'accept', accept: '*/*' }).accept).toBeUndefined();
  });

  it("never passes the gateway's own control headers (x-switchyard-*) to a backend", () => {
    const out = input({ 'x-switchyard-force': 'pipeline', 'x-switchyard-token': 'let-me-in', 'x-switchyard-anything': '1', 'x-switch': 'kept' });
    expect(Object.keys(out).filter((k) => k.startsWith('x-switchyard-'))).toEqual(['x-switchyard-route']);
    expect(out['x-switch']).toBe('kept');
  });

  it('appends the client address to X-Forwarded-For, or starts it', () => {
    expect(input({})['x-forwarded-for']).toBe('10.0.0.7');
    expect(input({ 'x-forwarded-for': '203.0.113.9' })['x-forwarded-for']).toBe('203.0.113.9, 10.0.0.7');
    expect(input({ 'x-forwarded-for': '203.0.113.9, 198.51.100.2' })['x-forwarded-for']).toBe('203.0.113.9, 198.51.100.2, 10.0.0.7');
    expect(input({}, { remoteAddress: undefined })['x-forwarded-for']).toBe('');
  });

  it('sets X-Forwarded-Proto and -Host from this hop, keeping those a trusted proxy in front sent', () => {
    expect(input({ host: 'shop.example' })).toMatchObject({ 'x-forwarded-proto': 'http', 'x-forwarded-host': 'shop.example' });
    expect(input({ host: 'shop.example' }, { protocol: 'https' })['x-forwarded-proto']).toBe('https');
    const claimed = { host: 'inner:8080', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'shop.example' };
    // From a trusted proxy: kept. From anyone else: overwritten (a client could claim https).
    expect(input(claimed, { trustForwarded: true })).toMatchObject({ host: 'inner:8080', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'shop.example' });
    expect(input(claimed, { trustForwarded: false })).toMatchObject({ host: 'inner:8080', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'inner:8080' });
    expect(input({ host: 'a', 'x-forwarded-proto': '' }, { trustForwarded: true })['x-forwarded-proto']).toBe('http'); // empty is not a claim
    expect(input({})['x-forwarded-host']).toBeUndefined();
  });

  it('sets the request id and the route, replacing what the client sent', () => {
    const out = input({ 'x-request-id': 'client-id' }, { requestId: 'chosen-id', route: 'catalog' });
    expect(out['x-request-id']).toBe('chosen-id');
    expect(out['x-switchyard-route']).toBe('catalog');
  });

  it('keeps repeated headers as they came', () => {
    const out = input({ 'x-multi': ['a', 'b'] as unknown as string, cookie: 'a=1; b=2' });
    expect(out['x-multi']).toEqual(['a', 'b']);
    expect(out.cookie).toBe('a=1; b=2');
  });
});

describe('response headers', () => {
  it('drops hop-by-hop headers and those Connection names, keeps the rest', () => {
    const out = withoutHopByHop({
      connection: 'keep-alive, x-internal',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      'x-internal': 'secret',
      'content-type': 'text/plain',
      'set-cookie': ['a=1', 'b=2'],
      'x-absent': undefined,
    });
    expect(out).toEqual({ 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
  });

  it('reads a repeated Connection header of an upstream response (an array) as one list', () => {
    const out = withoutHopByHop({ connection: ['keep-alive', 'x-internal'], 'x-internal': 'secret', 'x-kept': '1' });
    expect(out).toEqual({ 'x-kept': '1' });
  });
});
