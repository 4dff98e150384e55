import { describe, expect, it } from 'vitest';
import type { RequestView } from '../../src/pipeline/module.js';
import { waf } from '../../src/pipeline/modules/waf.js';
import { compileEdgePath, decodeQuery, matchEdgePath, percentDecode } from '../../src/products/edge-match.js';
import { parseProducts } from '../../src/products/products-config.js';

describe('percent-decoding, as the WAF reads paths (twin of pct_decode in edge.lua)', () => {
  it.each([
    ['/plain/path', '/plain/path'],
    ['/a%20b', '/a b'],
    ['/%2e%2e/etc/passwd', '/../etc/passwd'],
    ['/%2E%2E%2F', '/../'], // upper-case hex
    ['/%252e', '/%2e'], // decoded once, not twice
    ['/%41%42%43', '/ABC'],
    ['/a+b', '/a+b'], // "+" is a space only in a query
    ['/bad%zz', '/bad%zz'], // malformed escapes stay as they are
    ['/cut%2', '/cut%2'],
    ['/end%', '/end%'],
    ['%', '%'],
    ['', ''],
  ])('%j reads as %j', (raw, decoded) => {
    expect(percentDecode(raw)).toBe(decoded);
  });

  it('decodes to bytes, one Latin-1 character each, like a Lua string (not UTF-8 text)', () => {
    expect(percentDecode('/caf%C3%A9')).toBe('/caf\u00c3\u00a9');
    expect(percentDecode('/%00x')).toBe('/\u0000x');
    expect(percentDecode('/%ff')).toBe('/\u00ff');
  });

  it('reads a query with "+" as a space, then percent-decoded', () => {
    expect(decodeQuery('q=union+select')).toBe('q=union select');
    expect(decodeQuery('q=union%20select')).toBe('q=union select');
    expect(decodeQuery('q=a%2Bb')).toBe('q=a+b'); // an encoded "+" stays a plus
    expect(decodeQuery('')).toBe('');
  });
});

describe('edge path patterns', () => {
  it.each<[string, string, { rest: string } | undefined]>([
    ['/api/**', '/api', { rest: '' }],
    ['/api/**', '/api/', { rest: '' }],
    ['/api/**', '/api/v1/items', { rest: 'v1/items' }],
    ['/api/**', '/apis', undefined],
    ['/api/**', '/ap', undefined],
    ['/**', '/', { rest: '' }],
    ['/**', '/anything/at/all', { rest: 'anything/at/all' }],
    ['/exact', '/exact', { rest: '' }],
    ['/exact', '/exact/', undefined],
    ['/exact', '/exactly', undefined],
  ])('%s against %s', (pattern, path, expected) => {
    expect(matchEdgePath(pattern, path)).toEqual(expected);
    // The compiled form the modules use per request says the same, with and without the rest.
    const compiled = compileEdgePath(pattern);
    expect(compiled.rest(path)).toBe(expected?.rest);
    expect(compiled.test(path)).toBe(expected !== undefined);
  });
});

describe('the WAF module reads decoded paths and queries', () => {
  const products = parseProducts(
    'origin: { url: "http://127.0.0.1:9" }\nwaf:\n  - { id: "1001", field: path, pattern: "\\\\.\\\\./" }\n  - { id: "1002", field: query, pattern: "(?:union|select)\\\\s+", ignore_case: true }\n',
    'products.yaml',
  );
  const rules = waf.configure(products)!;
  const view = (path: string, query = ''): RequestView => ({
    method: 'GET',
    path,
    query,
    remoteAddress: '10.0.0.1',
    header: () => undefined,
    headerValues: () => undefined,
  });
  const verdict = (path: string, query?: string) => waf.request!({ request: view(path, query), vars: {} }, rules, undefined);

  it.each([
    ['/static/../etc/passwd', '', 'waf:1001'],
    ['/static/%2e%2e/etc/passwd', '', 'waf:1001'],
    ['/static/%2E%2E%2Fetc', '', 'waf:1001'],
    ['/search', 'q=UNION+SELECT+1', 'waf:1002'],
    ['/search', 'q=union%20select%201', 'waf:1002'],
  ])('blocks %s?%s (%s)', (path, query, reason) => {
    expect(verdict(path, query)).toMatchObject({ kind: 'respond', status: 403, reason });
  });

  it.each([
    ['/static/%252e%252e/etc', ''], // decoded once: "%2e%2e", not ".."
    ['/static/..%zz', ''],
    ['/search', 'q=unionselect'],
  ])('lets %s?%s through', (path, query) => {
    expect(verdict(path, query)).toEqual({ kind: 'continue' });
  });
});
