/**
 * The conformance scenarios: one request (or a short sequence) → the expected status, headers
 * and body shape. They run against any implementation of the edge products given its base URL
 * (run-conformance.ts), with test/conformance/products.yaml in front of the demo origin.
 *
 * A scenario where an implementation must differ says so in `differs`, with the reason; the
 * reasons are collected in docs/products.md.
 */

export interface Req {
  method?: string;
  path: string;
  /** A repeated header is sent as one line per value. */
  headers?: Record<string, string | string[]>;
  body?: string;
  /**
   * Sent as these bytes over a raw socket instead (requests Node's client will not send, or
   * heads of an exact size). End the head with `Connection: close`: the answer is what arrives
   * until the server closes.
   */
  raw?: string;
}

/** A header expectation: exact value, pattern, or null for "absent". */
export type HeaderExpect = string | RegExp | null;

export interface Expect {
  status: number;
  headers?: Record<string, HeaderExpect>;
  /** Partial match against the parsed JSON body. */
  json?: unknown;
  /** The body is empty. */
  empty?: boolean;
  /** Dotted paths that must be absent from the JSON body. */
  absent?: string[];
}

export interface Scenario {
  name: string;
  product: 'origin' | 'request-headers' | 'response-headers' | 'redirects' | 'waf' | 'rate-limit' | 'cors' | 'edge';
  /** One request, or several sent in order (each with its own expectation). */
  steps: { req: Req; expect: Expect }[];
  /** Implementations that answer differently, with the documented reason. */
  differs?: Record<string, { expect: Expect; why: string }>;
}

const one = (name: string, product: Scenario['product'], req: Req, expect: Expect, differs?: Scenario['differs']): Scenario => ({
  name,
  product,
  steps: [{ req, expect }],
  differs,
});

/** One header line of exactly `bytes` bytes, CRLF included. */
const line = (name: string, bytes: number): string => `${name}: ${'z'.repeat(bytes - name.length - 4)}\r\n`;

/**
 * A raw GET whose head (request line, header lines, the empty line) is exactly `total` bytes,
 * made of lines of at most `lineBytes` (the edge's limits: docs/products.md).
 */
function headOf(target: string, total: number, lineBytes = 8000): string {
  let head = `GET ${target} HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n`;
  for (let i = 0; head.length + 2 < total; i++) head += line(`X-Pad-${i}`, Math.min(lineBytes, total - head.length - 2));
  return `${head}\r\n`;
}

/** A raw GET whose request line is exactly `bytes` bytes, CRLF included, with a target under `prefix`. */
const requestLineOf = (prefix: string, bytes: number): string =>
  `GET ${prefix}${'y'.repeat(bytes - prefix.length - 'GET  HTTP/1.1\r\n'.length)} HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n`;

const SECURITY = { 'x-frame-options': 'DENY', 'x-content-type-options': 'nosniff', server: null, 'x-powered-by': null };

export const scenarios: Scenario[] = [
  // The origin, through the layer.
  one('lists the catalog', 'origin', { path: '/api/catalog' }, { status: 200, json: { total: 24 }, headers: { 'content-type': /^application\/json/ } }),
  one('fetches one item with its etag', 'origin', { path: '/api/catalog/3' }, { status: 200, json: { id: 3, name: 'gizmo 3' }, headers: { etag: '"item-3"' } }),
  one('passes a 404 from the origin through', 'origin', { path: '/api/catalog/999' }, { status: 404, json: { error: 'not_found', id: 999 } }),
  one(
    'answers HEAD with headers and no body',
    'origin',
    { method: 'HEAD', path: '/api/catalog/3' },
    { status: 200, empty: true, headers: { etag: '"item-3"', ...SECURITY } },
  ),
  one(
    'passes a POST body to the origin',
    'origin',
    { method: 'POST', path: '/api/echo', headers: { 'content-type': 'application/json' }, body: '{"a":1}' },
    { status: 200, json: { received: '{"a":1}', content_type: 'application/json', length: 7 } },
  ),
  one('passes query parameters', 'origin', { path: '/api/search?q=gad&limit=2' }, { status: 200, json: { query: 'gad', count: 2 } }),
  one('passes a long query string', 'origin', { path: `/api/search?q=${'x'.repeat(4000)}` }, { status: 200, json: { count: 0 } }),
  one('passes a percent-encoded path as sent', 'origin', { path: '/api/catalog/%33' }, { status: 404, json: { error: 'not_found' } }),
  one('passes repeated slashes as sent', 'origin', { path: '/api//catalog' }, { status: 404, json: { path: '/api//catalog' } }),
  one(
    'passes an OPTIONS request that is no CORS preflight to the origin',
    'origin',
    { method: 'OPTIONS', path: '/api/catalog' },
    { status: 405, headers: { allow: 'GET, HEAD' } },
  ),
  one(
    'passes the client Host to the origin',
    'origin',
    { path: '/api/headers', headers: { host: 'shop.example' } },
    { status: 200, json: { headers: { host: 'shop.example' } } },
  ),

  // Request header rules.
  one('sets a request header for the origin', 'request-headers', { path: '/api/headers' }, { status: 200, json: { headers: { 'x-edge': 'switchyard' } } }),
  one(
    'overwrites a client value of a set header',
    'request-headers',
    { path: '/api/headers', headers: { 'X-Edge': 'spoofed' } },
    { status: 200, json: { headers: { 'x-edge': 'switchyard' } } },
  ),
  one(
    'removes a request header',
    'request-headers',
    { path: '/api/headers', headers: { 'X-Internal-Debug': '1' } },
    { status: 200, absent: ['headers.x-internal-debug'] },
  ),
  one(
    'adds a request header after the client value',
    'request-headers',
    { path: '/api/headers', headers: { 'x-tag': 'client' } },
    { status: 200, json: { headers: { 'x-tag': 'client, edge' } } },
  ),
  one('adds a request header the client did not send', 'request-headers', { path: '/api/headers' }, { status: 200, json: { headers: { 'x-tag': 'edge' } } }),

  // Response header rules.
  one('sets security headers and hides server and x-powered-by', 'response-headers', { path: '/api/catalog/1' }, { status: 200, headers: SECURITY }),
  one(
    'adds to a response header the origin sent',
    'response-headers',
    { path: '/api/catalog/1' },
    { status: 200, headers: { 'cache-control': 'no-store, no-transform' } },
  ),
  one('applies response header rules to local replies too', 'response-headers', { path: '/a/../b' }, { status: 403, headers: SECURITY }),

  // Redirects.
  one(
    'redirects an exact path, with an empty untyped body',
    'redirects',
    { path: '/find' },
    { status: 308, empty: true, headers: { location: '/api/search', 'content-type': null, 'content-length': '0' } },
  ),
  one('keeps the query string by default', 'redirects', { path: '/find?q=gad' }, { status: 308, headers: { location: '/api/search?q=gad' } }),
  one('redirects a prefix with its remainder', 'redirects', { path: '/catalog/3' }, { status: 301, headers: { location: '/api/catalog/3' } }),
  one('redirects the prefix itself with an empty remainder', 'redirects', { path: '/catalog' }, { status: 301, headers: { location: '/api/catalog/' } }),
  one('keeps deeper remainders', 'redirects', { path: '/catalog/a/b?x=1' }, { status: 301, headers: { location: '/api/catalog/a/b?x=1' } }),
  one('drops the query string when asked', 'redirects', { path: '/old?x=1' }, { status: 302, headers: { location: '/new' } }),
  one('redirects to another site', 'redirects', { path: '/ext/docs/page' }, { status: 307, headers: { location: 'https://example.com/docs/page' } }),
  one('redirects HEAD too', 'redirects', { method: 'HEAD', path: '/catalog/3' }, { status: 301, empty: true, headers: { location: '/api/catalog/3' } }),
  one('does not redirect a sibling of the prefix', 'redirects', { path: '/catalogue' }, { status: 404 }),

  // WAF.
  one(
    'blocks path traversal',
    'waf',
    { path: '/static/../etc/passwd' },
    { status: 403, json: { error: 'blocked', rule: '1001' }, headers: { 'content-type': /^application\/json/ } },
  ),
  one('blocks percent-encoded path traversal', 'waf', { path: '/static/%2e%2e/etc/passwd' }, { status: 403, json: { rule: '1001' } }),
  one('blocks a query pattern regardless of case', 'waf', { path: '/api/search?q=UNION%20SELECT+1' }, { status: 403, json: { rule: '1002' } }),
  one('blocks a user agent', 'waf', { path: '/api/catalog', headers: { 'User-Agent': 'SQLMap/1.7' } }, { status: 403, json: { rule: '1003' } }),
  one('blocks on a header', 'waf', { path: '/api/catalog', headers: { 'X-Attack': 'yes' } }, { status: 403, json: { rule: '1004' } }),
  one('lets a benign query through', 'waf', { path: '/api/search?q=selection' }, { status: 200 }),
  // The dialect classes of issue 11: PCRE and RE2 must give the same verdict.
  one('blocks a "$" pattern at the end of the path', 'waf', { path: '/x.php' }, { status: 403, json: { rule: '1005' } }),
  one('does not read "$" as "before a final newline"', 'waf', { path: '/x.php%0a' }, { status: 404 }),
  one('does not read VT as "\\s"', 'waf', { path: '/api/search?q=union%0bselect' }, { status: 200 }),
  one('does not read NBSP (%A0) as "\\s"', 'waf', { path: '/api/search?q=union%a0select' }, { status: 200 }),
  one('reads "." as any byte but LF: CR matches', 'waf', { path: '/dot/%0dx' }, { status: 403, json: { rule: '1006' } }),
  one('reads "." as any byte but LF: LF does not', 'waf', { path: '/dot/%0ax' }, { status: 404 }),
  one(
    'checks every line of a repeated header',
    'waf',
    { path: '/api/catalog', headers: { 'user-agent': ['Mozilla/5.0', 'sqlmap/1.7'] } },
    { status: 403, json: { rule: '1003' } },
  ),
  one(
    'sees a header after the 100th',
    'waf',
    { path: '/api/catalog', headers: { ...Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`x-h${i}`, '1'])), 'x-attack': 'yes' } },
    { status: 403, json: { rule: '1004' } },
  ),

  // Rate limits (rate 0.2/s, burst 3: the bucket does not refill noticeably during a test).
  {
    name: 'allows a burst, then answers 429 with Retry-After',
    product: 'rate-limit',
    steps: [
      ...[1, 2, 3].map(() => ({ req: { path: '/rl/x', headers: { 'x-client': 'burst-a' } }, expect: { status: 404 } })),
      {
        req: { path: '/rl/x', headers: { 'x-client': 'burst-a' } },
        expect: { status: 429, json: { error: 'rate_limited', rule: 'per-client' }, headers: { 'retry-after': /^[1-5]$/ } },
      },
    ],
  },
  {
    name: 'keeps separate buckets per key',
    product: 'rate-limit',
    steps: [
      ...[1, 2, 3].map(() => ({ req: { path: '/rl/y', headers: { 'x-client': 'burst-b' } }, expect: { status: 404 } })),
      { req: { path: '/rl/y', headers: { 'x-client': 'burst-b' } }, expect: { status: 429 } },
      { req: { path: '/rl/y', headers: { 'x-client': 'burst-c' } }, expect: { status: 404 } },
    ],
  },
  one(
    'refuses a request without the rate-limit key',
    'rate-limit',
    { path: '/rl/x' },
    { status: 400, json: { error: 'missing_rate_limit_key', rule: 'per-client' } },
  ),
  {
    name: 'does not limit a request without the key when missing_key is allow',
    product: 'rate-limit',
    steps: [1, 2, 3].map(() => ({ req: { path: '/rl-open/x' }, expect: { status: 404 } })),
  },
  one('does not limit paths outside the rule', 'rate-limit', { path: '/api/catalog/2' }, { status: 200 }),

  // CORS.
  one(
    'answers an allowed preflight at the edge',
    'cors',
    { method: 'OPTIONS', path: '/api/echo', headers: { Origin: 'https://shop.example', 'Access-Control-Request-Method': 'POST' } },
    {
      status: 204,
      empty: true,
      headers: {
        'access-control-allow-origin': 'https://shop.example',
        'access-control-allow-methods': 'GET, HEAD, POST',
        'access-control-allow-headers': 'content-type, authorization',
        'access-control-max-age': '600',
        'access-control-allow-credentials': 'true',
        vary: /Origin/,
      },
    },
  ),
  one(
    'refuses a preflight from another origin',
    'cors',
    { method: 'OPTIONS', path: '/api/echo', headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' } },
    { status: 403, json: { error: 'cors_origin_not_allowed' } },
  ),
  one(
    'adds CORS headers to an allowed cross-origin request',
    'cors',
    { path: '/api/catalog/1', headers: { Origin: 'https://shop.example' } },
    {
      status: 200,
      headers: {
        'access-control-allow-origin': 'https://shop.example',
        'access-control-expose-headers': 'x-request-id',
        'access-control-allow-credentials': 'true',
        vary: /Origin/,
      },
    },
  ),
  one(
    'adds no CORS headers for another origin',
    'cors',
    { path: '/api/catalog/1', headers: { Origin: 'https://evil.example' } },
    { status: 200, headers: { 'access-control-allow-origin': null } },
  ),

  // Edges of the protocol.
  one(
    'answers a method the edge does not serve with 405 and Allow',
    'edge',
    { method: 'PROPFIND', path: '/api/catalog' },
    { status: 405, json: { error: 'method_not_allowed' }, headers: { allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS' } },
  ),
  one(
    'answers TRACE with 405 and Allow, through the response header rules',
    'edge',
    { method: 'TRACE', path: '/api/catalog', headers: { Origin: 'https://shop.example' } },
    {
      status: 405,
      json: { error: 'method_not_allowed' },
      headers: { allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS', 'access-control-allow-origin': 'https://shop.example', ...SECURITY },
    },
  ),
  // Node's parser (llhttp) knows a fixed list of methods (http.METHODS) and refuses any other
  // token before the pipeline runs; the legacy layer refuses the same tokens the same way.
  one(
    'refuses a method token the HTTP parser does not know with 400',
    'edge',
    { method: 'BREW', path: '/api/catalog' },
    { status: 400, json: { error: 'bad_request', code: 'SWY_ERR_CLIENT_BAD_REQUEST' }, headers: { 'x-frame-options': null } },
  ),
  one(
    'refuses a repeated Host',
    'edge',
    { path: '/', raw: 'GET /api/catalog HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nConnection: close\r\n\r\n' },
    { status: 400 },
  ),
  one('refuses %00 in the path', 'edge', { path: '/api/catalog%00' }, { status: 400 }),
  one('refuses an invalid escape in the path', 'edge', { path: '/api/%zz' }, { status: 400 }),
  one('refuses a dot segment above the root', 'edge', { path: '/%2e%2e/api/catalog' }, { status: 400 }),
  // The legacy layer answers its own refusals from this path (nginx.conf's error_page): no
  // client request reaches it.
  one("refuses the path of the legacy layer's refusal answers like any climb above the root", 'edge', { path: '/../refused/uri_too_long' }, { status: 400 }),
  one('resolves dot segments below the root', 'edge', { path: '/api/x/%2e%2e/catalog/1' }, { status: 403, json: { rule: '1001' } }),
  one(
    'treats an absolute-form target as its path',
    'edge',
    { path: 'http://shop.example/find?q=1' },
    { status: 308, headers: { location: '/api/search?q=1' } },
  ),
  one(
    'refuses an absolute-form target with an empty host',
    'edge',
    { path: '/', raw: 'GET http:///api/catalog HTTP/1.1\r\nHost: a.example\r\n\r\n' },
    { status: 400 },
  ),
  one(
    'refuses an absolute-form target with userinfo',
    'edge',
    { path: '/', raw: 'GET http://user@shop.example/api/catalog HTTP/1.1\r\nHost: a.example\r\n\r\n' },
    { status: 400 },
  ),
  one('refuses an HTTP/2.0 request line with 505', 'edge', { path: '/', raw: 'GET /api/catalog HTTP/2.0\r\nHost: a.example\r\n\r\n' }, { status: 505 }),
  one('refuses an HTTP/3.0 request line with 505', 'edge', { path: '/', raw: 'GET /api/catalog HTTP/3.0\r\nHost: a.example\r\n\r\n' }, { status: 505 }),
  one('refuses an HTTP/0.9 request line', 'edge', { path: '/', raw: 'GET /api/catalog HTTP/0.9\r\nHost: a.example\r\n\r\n' }, { status: 400 }),
  one('refuses CONNECT with a path with 405', 'edge', { path: '/', raw: 'CONNECT /api/catalog HTTP/1.1\r\nHost: a.example\r\n\r\n' }, { status: 405 }),
  one(
    'refuses CONNECT to an authority with 400',
    'edge',
    { path: '/', raw: 'CONNECT shop.example:443 HTTP/1.1\r\nHost: shop.example:443\r\n\r\n' },
    { status: 400, json: { error: 'bad_request' } },
  ),
  one('treats header names case-insensitively', 'edge', { path: '/api/catalog', headers: { 'uSeR-aGeNt': 'NIKTO' } }, { status: 403, json: { rule: '1003' } }),

  // The head's limits (docs/products.md): 8 KiB per line, CRLF included, and 32 KiB in all,
  // refused before any product runs, so without the response header rules.
  one(
    'refuses a request line over 8 KiB with 414',
    'edge',
    { path: `/api/search?q=${'y'.repeat(9000)}` },
    { status: 414, json: { error: 'uri_too_long', code: 'SWY_ERR_CLIENT_URI_TOO_LONG' }, headers: { 'x-frame-options': null } },
  ),
  one('takes a request line of 8 KiB', 'edge', { path: '/', raw: requestLineOf('/find?q=', 8192) }, { status: 308 }),
  one(
    'refuses a request line of 8 KiB and one byte',
    'edge',
    { path: '/', raw: requestLineOf('/find?q=', 8193) },
    { status: 414, json: { error: 'uri_too_long' } },
  ),
  one('takes a header line of 8 KiB', 'edge', { path: '/find', headers: { 'x-big': 'z'.repeat(8192 - 'x-big: \r\n'.length) } }, { status: 308 }),
  one(
    'refuses a header line of 8 KiB and one byte with 431',
    'edge',
    { path: '/find', headers: { 'x-big': 'z'.repeat(8193 - 'x-big: \r\n'.length) } },
    { status: 431, json: { error: 'headers_too_large', code: 'SWY_ERR_CLIENT_HEADERS_TOO_LARGE' }, headers: { 'x-frame-options': null } },
  ),
  one('takes a head of 32 KiB', 'edge', { path: '/', raw: headOf('/find', 32 * 1024) }, { status: 308 }),
  one(
    // In lines of 1000 bytes nginx's buffers still have room: edge.lua refuses it, not nginx.
    'refuses a head of 32 KiB and one byte',
    'edge',
    { path: '/', raw: headOf('/find', 32 * 1024 + 1, 1000) },
    { status: 431, json: { error: 'headers_too_large' } },
  ),
  // Lines just over half a buffer leave nginx's buffers half empty: its 8 buffers still take 32 KiB.
  one('takes a head of 32 KiB in lines of half a buffer', 'edge', { path: '/', raw: headOf('/find', 32 * 1024, 4097) }, { status: 308 }),

  // Header names: nginx ignores a name with anything but letters, digits and "-"
  // (underscores_in_headers off, ignore_invalid_headers on); the pipeline drops the same ones.
  one(
    'drops header names with "_" and other characters nginx ignores, before the products and the origin',
    'edge',
    { path: '/api/headers', headers: { X_Forwarded_For: '203.0.113.9', 'x~tag': '1', x_attack: 'yes', 'X-Kept-1': 'ok' } },
    { status: 200, json: { headers: { 'x-kept-1': 'ok' } }, absent: ['headers.x_forwarded_for', 'headers.x~tag', 'headers.x_attack'] },
  ),
  one(
    'drops or refuses a header name with a character outside HTTP tokens',
    'edge',
    { path: '/', raw: 'GET /api/headers HTTP/1.1\r\nHost: shop.example\r\nX"Odd: 1\r\nConnection: close\r\n\r\n' },
    { status: 200, absent: ['headers.x"odd'] },
    {
      pipeline: {
        expect: { status: 400, json: { error: 'bad_request' } },
        why: "Node's HTTP parser refuses a header name that is not an HTTP token (RFC 9110 §5.1) before the pipeline runs; nginx ignores the line (ignore_invalid_headers).",
      },
    },
  ),
];
