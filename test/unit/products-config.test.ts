import { describe, expect, it } from 'vitest';
import { formatIssue } from '../../src/config/yaml-source.js';
import { checkPortableRegex, loadProducts, parseProducts, validateProductsText } from '../../src/products/products-config.js';

const errors = (text: string) => validateProductsText(text, 'products.yaml').map(formatIssue);
const ORIGIN = 'origin: { url: "http://127.0.0.1:9000" }\n';

describe('products config', () => {
  it('loads the shipped config/products.yaml and the conformance config', () => {
    expect(loadProducts('config/products.yaml').waf.length).toBeGreaterThan(0);
    expect(loadProducts('test/conformance/products.yaml').cors?.origins).toEqual(['https://shop.example']);
  });

  it('refuses "$1" without a prefix "from"', () => {
    expect(errors(`${ORIGIN}redirects:\n  - { id: a, from: "/x", to: "/y/$1" }\n`)).toEqual([
      'products.yaml:3:5: redirects[0]: "$1" in "to" needs a prefix "from" ending in "/**"',
    ]);
  });

  it('reports every error with line, column and key', () => {
    expect(
      errors(`${ORIGIN}redirects:
  - { id: a, from: "/x", to: "/y/$1", status: 303 }
  - { id: a, from: "x/**", to: "/z" }
headers:
  response:
    - { set: x-a }
    - { set: x-b, remove: x-c }
waf:
  - { id: w1, field: body, pattern: "(?<=a)b" }
rate_limits:
  - { id: r1, key: cookie, rate: 0, burst: 1.5 }
cors: { origins: ["*"], credentials: true }
`),
    ).toEqual([
      'products.yaml:3:47: redirects[0].status: status is 301, 302, 307 or 308',
      'products.yaml:4:11: redirects[1].id: duplicate id "a" (first at redirects[0])',
      'products.yaml:4:20: redirects[1].from: a path starts with "/"',
      'products.yaml:7:7: headers.response[0]: "set" needs a value',
      'products.yaml:8:7: headers.response[1]: a header rule has exactly one of set, add or remove',
      'products.yaml:10:22: waf[0].field: "body" is not path, query, user_agent or header:NAME',
      'products.yaml:10:37: waf[0].pattern: "(?<=a)b": lookbehind: not portable between PCRE and RE2',
      'products.yaml:12:20: rate_limits[0].key: "cookie" is not ip or header:NAME',
      'products.yaml:12:34: rate_limits[0].rate: 0 is below the minimum 0.001',
      'products.yaml:12:44: rate_limits[0].burst: expected a whole number, got 1.5',
      'products.yaml:13:7: cors: credentials cannot be combined with the "*" origin (browsers refuse it)',
    ]);
  });

  it('refuses a WAF field or rate-limit key on a header name both implementations drop', () => {
    expect(
      errors(`${ORIGIN}waf:
  - { id: w1, field: "header:X_Forwarded_For", pattern: "x" }
  - { id: w2, field: "header:X-Kept", pattern: "x" }
rate_limits:
  - { id: r1, key: "header:x.client", rate: 1, burst: 1 }
`),
    ).toEqual([
      'products.yaml:3:22: waf[0].field: "header:X_Forwarded_For" never matches: both implementations drop header names with anything but letters, digits and "-"',
      'products.yaml:6:20: rate_limits[0].key: "header:x.client" never matches: both implementations drop header names with anything but letters, digits and "-"',
    ]);
  });

  it.each([
    ['(?<name>x)', 'named groups'],
    ['(?>x)', 'atomic groups'],
    ['(?i)x', 'inline flags'],
    ['a++', 'possessive'],
    ['\\Aabc', 'escape'],
    ['(a)\\1', 'backreferences'],
    ['[[:alpha:]]', 'POSIX'],
    ['\\p{L}', 'escape'],
    ['(', 'invalid regular expression'],
    ['(?=x)', 'lookahead'],
    ['\\v', 'escape'],
    ['\\x41', 'escape'],
    ['caf\u00e9', 'non-ASCII'],
    ['[\\S]', 'inside a class'],
    ['[]a]', 'empty class'],
  ])('refuses the non-portable regex %s', (re, why) => {
    expect(checkPortableRegex(re)).toMatch(new RegExp(why));
  });

  it.each(['\\.\\./', '^(?:sqlmap|nikto)', '[a-z0-9_-]{3,}$', '(?:union|select)\\s+', 'a.*?b', '^/api/v[0-9]+/'])('accepts the portable regex %s', (re) => {
    expect(checkPortableRegex(re)).toBeUndefined();
  });

  it('replaces ${VAR} and ${VAR:-default} from the environment, as in gateway.yaml', () => {
    const text = `origin: { url: "http://\${ORIGIN_HOST:-127.0.0.1}:\${ORIGIN_PORT}" }
headers:
  response:
    - { set: x-edge-region, value: "\${REGION:-eu}" }
waf:
  - { id: w1, field: path, pattern: "^/admin$" }
`;
    const p = parseProducts(text, 'products.yaml', { ORIGIN_PORT: '9123', REGION: 'us-east' });
    expect(p.origin).toMatchObject({ url: 'http://127.0.0.1:9123', host: '127.0.0.1', port: 9123 });
    expect(p.responseHeaders).toEqual([{ op: 'set', name: 'x-edge-region', value: 'us-east' }]);
    expect(p.waf[0]!.pattern).toBe('^/admin$');
    // An empty variable counts as unset, as in gateway.yaml: the default applies.
    expect(parseProducts(text, 'products.yaml', { ORIGIN_PORT: '9123', REGION: '' }).responseHeaders[0]).toMatchObject({ value: 'eu' });
  });

  it('names FILE:LINE:COL and the key for an unset variable without a default', () => {
    const text = `origin: { url: "http://127.0.0.1:9000" }
headers:
  request:
    - { set: x-api-key, value: "\${EDGE_API_KEY}" }
`;
    expect(validateProductsText(text, 'products.yaml', {}).map(formatIssue)).toEqual([
      'products.yaml:4:32: headers.request[0].value: environment variable EDGE_API_KEY is not set (use ${EDGE_API_KEY:-default} for a default)',
    ]);
    expect(validateProductsText(text, 'products.yaml', { EDGE_API_KEY: 'k' })).toEqual([]);
  });
});
