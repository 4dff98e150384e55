/**
 * The request families of the differential fuzz, each aimed at one concern of the edge
 * (docs/products.md) with test/fuzz/products.yaml in front: benign traffic, encodings, duplicate
 * and oversized headers, odd methods, absolute-form, dot segments, CORS, redirects, WAF hits and
 * near-misses, rate-limit bursts, X-Forwarded-For, header rules, body framing and head syntax.
 * A family draws one request (a burst: several) from the PRNG; generate.ts frames it.
 */
import type { Draft } from './generate.js';
import type { Prng } from './prng.js';

export type Family =
  | 'benign'
  | 'encoding'
  | 'duplicate'
  | 'oversized'
  | 'method'
  | 'absolute'
  | 'dots'
  | 'cors'
  | 'redirect'
  | 'waf'
  | 'burst'
  | 'xff'
  | 'header-rules'
  | 'framing'
  | 'syntax';

export interface DrawContext {
  /** Position of the first request drawn. */
  n: number;
  freshAddress: (n: number) => string;
  /** Requests left in the stream: a burst is never longer. */
  remaining: number;
}

interface FamilyDef {
  name: Family;
  weight: number;
  draw: (p: Prng, ctx: DrawContext) => Draft[];
}

type H = [string, string];

const HOSTS = ['shop.example', 'shop.example:8080', 'SHOP.Example', 'localhost', '127.0.0.1', '[::1]:8081'];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/133.0', 'curl/8.11.1', 'okhttp/4.12.0', 'Go-http-client/1.1'];
/** Paths that reach the origin; /status/N, /chunked, /big and /vary steer its answer (recording-origin.ts). */
const ORIGIN_PATHS = [
  '/api/items/1',
  '/api/search',
  '/api/echo',
  '/',
  '/index.html',
  '/static/app.js',
  '/status/404',
  '/status/500',
  '/status/204',
  '/status/304',
  '/status/302',
  '/chunked/list',
  '/big/blob',
  '/vary/page',
  '/rl-open/a',
];
const WORDS = ['widget', 'gadget', 'a b', 'caf\u00e9', '', 'x', 'selection', 'union', 'sel', 'ect', '1', '100'];
const ALLOWED_ORIGINS = ['https://shop.example', 'http://localhost:3000'];
const OTHER_ORIGINS = [
  'https://evil.example',
  'null',
  'https://SHOP.example',
  'https://shop.example/',
  'https://shop.example:443',
  '*',
  '',
  'http://shop.example',
];

function host(p: Prng): H {
  return ['Host', p.pick(HOSTS)];
}

function common(p: Prng): H[] {
  const h: H[] = [host(p)];
  if (p.chance(0.8)) h.push(['User-Agent', p.pick(AGENTS)]);
  if (p.chance(0.5)) h.push(['Accept', p.pick(['*/*', 'application/json', 'text/html,application/xhtml+xml;q=0.9'])]);
  if (p.chance(0.3)) h.push(['Accept-Encoding', 'gzip, deflate, br']);
  if (p.chance(0.2)) h.push(['Cookie', p.pick(['session=abc123', 'theme=dark; lang=en', 'admin=0'])]);
  return h;
}

function query(p: Prng): string {
  if (p.chance(0.5)) return '';
  const parts = Array.from({ length: p.range(1, 3) }, () => `${p.pick(['q', 'limit', 'page', 'sort', 'x'])}=${encodeURIComponent(p.pick(WORDS))}`);
  return `?${parts.join('&')}`;
}

function hex(b: number, upper: boolean): string {
  const s = b.toString(16).padStart(2, '0');
  return upper ? s.toUpperCase() : s;
}

/** One path or query character, plain or in one of the spellings that parsers disagree on. */
function oddChar(p: Prng): string {
  return p.weighted<() => string>([
    [6, () => p.pick(['a', 'Z', '0', '-', '_', '.', '~'])],
    [5, () => `%${hex(p.int(256), p.chance(0.5))}`],
    [2, () => p.pick(['%2e', '%2E', '%2f', '%2F', '%25', '%5c', '%3f', '%23', '%20', '+'])],
    [1, () => p.pick(['%00', '%zz', '%4', '%', '%%', '%g0', '%252e', '%c0%ae', '%e2%80%ae'])],
    [2, () => String.fromCharCode(p.range(0x80, 0xff))],
    [2, () => p.pick([';', ',', '!', '$', '&', "'", '(', ')', '*', '=', ':', '@', '"', '<', '>', '`', '{', '}', '|', '\\', '^', '[', ']'])],
    [1, () => p.pick(['\x7f', '\x01', '\t', '#', '?', '//'])],
  ])();
}

function oddString(p: Prng, min: number, max: number): string {
  return Array.from({ length: p.range(min, max) }, () => oddChar(p)).join('');
}

function body(p: Prng): string {
  return p.weighted<() => string>([
    [3, () => JSON.stringify({ a: p.int(1000), s: p.pick(WORDS) })],
    [1, () => ''],
    [1, () => 'x'.repeat(p.range(1, 70_000))],
    [1, () => Array.from({ length: p.range(1, 64) }, () => String.fromCharCode(p.int(256))).join('')],
  ])();
}

const benign: FamilyDef = {
  name: 'benign',
  weight: 14,
  draw(p) {
    const method = p.weighted([
      [8, 'GET'],
      [2, 'HEAD'],
      [2, 'POST'],
      [1, 'PUT'],
      [1, 'PATCH'],
      [1, 'DELETE'],
      [1, 'OPTIONS'],
    ] as const);
    const headers = common(p);
    const withBody = ['POST', 'PUT', 'PATCH'].includes(method);
    if (withBody) headers.push(['Content-Type', p.pick(['application/json', 'application/x-www-form-urlencoded', 'text/plain; charset=utf-8'])]);
    return [{ method, target: p.pick(ORIGIN_PATHS) + query(p), headers, body: withBody ? body(p) : undefined, note: `benign ${method}` }];
  },
};

const encoding: FamilyDef = {
  name: 'encoding',
  weight: 9,
  draw(p) {
    const base = p.pick(['/api/', '/static/', '/find', '/catalog/', '/rl-open/', '/dot/', '/x/', '/', '/api/items/']);
    const path = base + oddString(p, 1, 8);
    const q = p.chance(0.5) ? `?${p.pick(['q', 'a', ''])}=${oddString(p, 0, 8)}` : '';
    const frag = p.chance(0.05) ? '#frag' : '';
    return [{ method: p.pick(['GET', 'GET', 'HEAD', 'POST']), target: path + q + frag, headers: common(p), note: 'odd bytes in the target' }];
  },
};

const duplicate: FamilyDef = {
  name: 'duplicate',
  weight: 7,
  draw(p) {
    const h = common(p).filter(([n]) => n !== 'Host');
    const kind = p.pick([
      'host-same',
      'host-different',
      'user-agent',
      'x-attack',
      'content-length-same',
      'content-length-different',
      'origin',
      'x-client',
      'cookie',
      'xff',
      'te',
      'x-tag',
      'x-edge',
      'debug',
    ] as const);
    const target = p.pick(ORIGIN_PATHS);
    const hostValue = p.pick(HOSTS);
    const headers: H[] =
      kind === 'host-same'
        ? [
            ['Host', hostValue],
            ['Host', hostValue],
          ]
        : kind === 'host-different'
          ? [
              ['Host', 'a.example'],
              ['Host', 'b.example'],
            ]
          : [['Host', hostValue]];
    let method = 'GET';
    let b: string | undefined;
    let framing: Draft['framing'];
    let ownKeys = false;
    switch (kind) {
      case 'user-agent':
        headers.push(['User-Agent', p.pick(AGENTS)], ['User-Agent', p.pick(['sqlmap/1.7', 'Mozilla/5.0', 'NIKTO', ' sqlmap'])]);
        break;
      case 'x-attack':
        headers.push(['X-Attack', p.pick(['', ' '])], ['X-Attack', p.pick(['', 'yes', ' '])]);
        break;
      case 'content-length-same':
      case 'content-length-different':
        method = 'POST';
        b = 'hello';
        framing = 'raw';
        headers.push(['Content-Length', '5'], ['Content-Length', kind === 'content-length-same' ? '5' : '3']);
        break;
      case 'origin':
        headers.push(['Origin', p.pick(ALLOWED_ORIGINS)], ['Origin', p.pick([...ALLOWED_ORIGINS, ...OTHER_ORIGINS])]);
        break;
      case 'x-client':
        ownKeys = true;
        headers.push(['X-Forwarded-For', `198.51.100.${p.int(256)}`], ['X-Client', 'dup-a'], ['X-Client', `dup-${p.next()}`]);
        break;
      case 'cookie':
        headers.push(['Cookie', 'theme=dark'], ['Cookie', p.pick(['admin=1', 'x=1; admin=1', 'admin=10'])]);
        break;
      case 'xff':
        ownKeys = true;
        headers.push(['X-Forwarded-For', '203.0.113.7'], ['X-Forwarded-For', p.pick(['10.1.2.3', '198.51.100.9', 'junk'])]);
        break;
      case 'te':
        method = 'POST';
        b = 'hello';
        framing = 'raw';
        headers.push(['Transfer-Encoding', 'chunked'], ['Transfer-Encoding', p.pick(['chunked', 'identity'])]);
        b = '5\r\nhello\r\n0\r\n\r\n';
        break;
      case 'x-tag':
        headers.push(['X-Tag', 'one'], ['X-Tag', 'two']);
        break;
      case 'x-edge':
        headers.push(['X-Edge', 'spoof-1'], ['x-edge', 'spoof-2']);
        break;
      case 'debug':
        headers.push(['X-Internal-Debug', '1'], ['x-internal-debug', '2']);
        break;
    }
    if (ownKeys && target.includes('rli')) return [{ method, target: '/api/items/2', headers: [...headers, ...h], note: `duplicate ${kind}`, ownKeys }];
    return [{ method, target, headers: [...headers, ...h], body: b, framing, ownKeys, note: `duplicate ${kind}` }];
  },
};

const oversized: FamilyDef = {
  name: 'oversized',
  weight: 4,
  draw(p) {
    const kind = p.pick(['line', 'many', 'target', 'total', 'name'] as const);
    const headers = common(p);
    let target = p.pick(ORIGIN_PATHS);
    if (kind === 'line') headers.push(['X-Big', 'z'.repeat(p.pick([1000, 4000, 7000, 8000, 8150, 8192, 8300, 9000, 16_000]))]);
    if (kind === 'many') for (let i = 0, c = p.pick([50, 99, 100, 101, 150, 400, 999, 1001, 1100]); i < c; i++) headers.push([`X-H${i}`, String(i)]);
    if (kind === 'target') target = `/api/search?q=${'y'.repeat(p.pick([2000, 4000, 8000, 8100, 8150, 8180, 8200, 9000]))}`;
    if (kind === 'total') for (let i = 0, c = p.range(2, 9); i < c; i++) headers.push([`X-Part-${i}`, 'w'.repeat(4000)]);
    if (kind === 'name') headers.push([`X-${'n'.repeat(p.pick([100, 1000, 8200]))}`, '1']);
    return [{ method: 'GET', target, headers, note: `oversized ${kind}` }];
  },
};

const method: FamilyDef = {
  name: 'method',
  weight: 6,
  draw(p) {
    const m = p.pick([
      'TRACE',
      'CONNECT',
      'PROPFIND',
      'MKCOL',
      'PURGE',
      'BREW',
      'get',
      'Get',
      'G3T',
      'SEARCH',
      'LINK',
      'QUERY',
      'M-SEARCH',
      'COPY',
      'LOCK',
      'REPORT',
      'ACL',
      'PRI',
      'X'.repeat(40),
      'GET\x01',
      'OPTIONS',
      'HEAD',
      'DELETE',
    ]);
    const target = m === 'CONNECT' ? p.pick(['shop.example:443', '/api/items/1']) : m === 'OPTIONS' && p.chance(0.5) ? '*' : p.pick(ORIGIN_PATHS);
    return [{ method: m, target, headers: common(p), body: p.chance(0.2) ? 'body' : undefined, note: `method ${JSON.stringify(m)}` }];
  },
};

const absolute: FamilyDef = {
  name: 'absolute',
  weight: 6,
  draw(p) {
    const scheme = p.pick(['http://', 'https://', 'HTTP://', 'Http://', 'ftp://', 'http:/', 'http:']);
    const authority = p.pick([
      'shop.example',
      'shop.example:8080',
      'user:pw@shop.example',
      '[::1]',
      'SHOP.EXAMPLE',
      'evil.example',
      '[',
      '',
      'shop.example:99999',
      'a%2eb',
    ]);
    const path = p.pick([
      '/api/items/1',
      '/find?q=1',
      '',
      '/catalog/3',
      '/static/../x',
      '/%2e%2e/x',
      '/a/./b',
      '?x=1',
      '/rli/abs',
      '/x.php',
      '/ext/a%20b',
      '/dot/%0dx',
    ]);
    const headers = common(p).filter(([n]) => n !== 'Host');
    if (p.chance(0.8)) headers.unshift(['Host', p.pick(['shop.example', 'other.example', 'SHOP.example'])]);
    return [{ method: p.pick(['GET', 'GET', 'HEAD', 'POST', 'OPTIONS']), target: scheme + authority + path, headers, note: 'absolute-form target' }];
  },
};

const DOT_SEGMENTS = ['..', '.', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '%2e', '...', '..;', '..%2f', '..\\', '..%5c', '%252e%252e', '.. ', '..%00'];

const dots: FamilyDef = {
  name: 'dots',
  weight: 7,
  draw(p) {
    const segs = Array.from({ length: p.range(1, 5) }, () =>
      p.chance(0.55) ? p.pick(DOT_SEGMENTS) : p.pick(['a', 'static', 'api', 'etc', 'passwd', 'catalog', 'find', 'x.php']),
    );
    const lead = p.pick(['/', '/', '//', '/static/', '/api/', '/catalog/']);
    const trail = p.pick(['', '', '/', '/x', '?q=../x']);
    return [{ method: p.pick(['GET', 'HEAD']), target: lead + segs.join(p.chance(0.9) ? '/' : '%2f') + trail, headers: common(p), note: 'dot segments' }];
  },
};

const cors: FamilyDef = {
  name: 'cors',
  weight: 7,
  draw(p) {
    const headers = common(p);
    const origin = p.chance(0.5) ? p.pick(ALLOWED_ORIGINS) : p.pick(OTHER_ORIGINS);
    if (p.chance(0.9)) headers.push([p.pick(['Origin', 'origin', 'ORIGIN']), origin]);
    const preflight = p.chance(0.6);
    if (preflight && p.chance(0.85)) headers.push(['Access-Control-Request-Method', p.pick(['POST', 'GET', 'PUT', 'DELETE', '', 'post'])]);
    if (preflight && p.chance(0.5)) headers.push(['Access-Control-Request-Headers', p.pick(['content-type', 'x-custom, authorization', ''])]);
    const m = preflight ? 'OPTIONS' : p.pick(['GET', 'POST', 'HEAD', 'PUT']);
    return [
      { method: m, target: p.pick([...ORIGIN_PATHS, '/find', '/catalog/1', '/rl/c']) + query(p), headers, note: `cors ${preflight ? 'preflight' : 'request'}` },
    ];
  },
};

const redirect: FamilyDef = {
  name: 'redirect',
  weight: 7,
  draw(p) {
    const from = p.pick(['/find', '/find/', '/findx', '/catalog', '/catalog/', '/catalogue', '/old', '/old/x', '/ext', '/ext/', '/q', '/q/', '/CATALOG/1']);
    const rest = from.endsWith('/') || p.chance(0.3) ? p.pick(['3', 'a/b', 'a%20b', 'caf%C3%A9', '%2e%2e', 'x?y', '..', 'a//b', '$1', 'a&b', 'caf\u00e9']) : '';
    const q = p.pick(['', '', '?q=gad', '?x=1&y=2', '?', '?a=%20+b', '?$1']);
    return [
      {
        method: p.pick(['GET', 'GET', 'HEAD', 'POST', 'DELETE']),
        target: from + (rest && !from.endsWith('/') ? `/${rest}` : rest) + q,
        headers: common(p),
        note: 'redirect',
      },
    ];
  },
};

/** A WAF hit, or a near-miss made from one. */
const waf: FamilyDef = {
  name: 'waf',
  weight: 12,
  draw(p) {
    const headers = common(p);
    const rule = p.pick(['1001', '1002', '1003', '1004', '1005', '1006', '1007', '1008', '1009'] as const);
    let target = '/api/items/1';
    switch (rule) {
      case '1001':
        target = `/static/${p.pick(['../', '..%2f', '%2e%2e/', '..\\', '.../', '..%2F', '.%2e/', '..', '%2e%2e%2f', '..%252f'])}etc/passwd`;
        break;
      case '1002': {
        const ws = p.pick(['+', '%20', '%09', '%0a', '%0b', '%0c', '%0d', '%a0', '', '++', '%2B', '%00']);
        target = `/api/search?q=${p.pick(['union', 'UNION', 'UnIoN', 'select', 'seLect', 'unionselect', 'xunion', 'uni%6fn'])}${ws}${p.pick(['1', 'all', ''])}`;
        break;
      }
      case '1003':
        headers.splice(1, headers.length, [
          'User-Agent',
          p.pick(['sqlmap/1.7', 'SQLMap', 'sqlmapper', ' sqlmap', 'xsqlmap', 'Nikto', 'nikt0', 'sql map', 'NIKTO/2', '\tsqlmap']),
        ]);
        break;
      case '1004':
        headers.push(['X-Attack', p.pick(['yes', '', ' ', 'a', '\t', '0'])]);
        break;
      case '1005':
        target = p.pick([
          '/x.php',
          '/x.PHP',
          '/x.php%0a',
          '/x.php/',
          '/x.php?',
          '/x.php?a=b',
          '/x%2ephp',
          '/x.ph%70',
          '/x.php%20',
          '/x.phps',
          '/x.php.',
          '/x.php%0d',
        ]);
        break;
      case '1006':
        target = `/dot/${p.pick(['a', '%0d', '%0a', '%00', '%ff', '.', '%2e', 'ab', ''])}x`;
        break;
      case '1007':
        headers.push([
          'Cookie',
          p.pick(['admin=1', 'a=b; admin=1', 'a=b;admin=1', 'admin=1; a=b', 'admin=10', 'xadmin=1', 'a=b;  admin=1', 'Admin=1', 'a=b;\tadmin=1']),
        ]);
        break;
      case '1008':
        target = `/api/search?q=${p.pick(['<script>', '%3Cscript%3E', '<SCRIPT src=x>', '<scripts>', '<script', '%3cscript+', '<scr ipt>', '<script%00>'])}`;
        break;
      case '1009':
        target = `/x/${'a'.repeat(p.pick([1, 5, 20, 28, 40]))}${p.pick(['', '!', 'b', '%0a'])}`;
        break;
    }
    return [{ method: p.pick(['GET', 'GET', 'POST', 'HEAD']), target, headers, note: `waf ${rule}` }];
  },
};

/** Requests sharing one rate-limit key, sent to both implementations in the same order. */
const burst: FamilyDef = {
  name: 'burst',
  weight: 6,
  draw(p, ctx) {
    const size = Math.min(ctx.remaining, p.range(2, 6));
    const byIp = p.chance(0.4);
    const key = byIp ? ctx.freshAddress(ctx.n) : `b-${ctx.n}`;
    return Array.from({ length: size }, (_, i) => {
      const headers = common(p);
      headers.push(byIp ? ['X-Forwarded-For', p.chance(0.3) ? `10.9.9.9, ${key}` : key] : ['X-Client', key]);
      // Neither a blocked request (the WAF runs before the rate limits) nor a preflight is special:
      // the order decides which one meets the empty bucket.
      if (p.chance(0.15)) headers.push(['X-Attack', 'yes']);
      const preflight = p.chance(0.15);
      if (preflight) headers.push(['Origin', p.pick(ALLOWED_ORIGINS)], ['Access-Control-Request-Method', 'POST']);
      const prefix = byIp ? '/rli' : p.pick(['/rl', '/rl', '/rl-open']);
      const method = preflight ? 'OPTIONS' : p.pick(['GET', 'GET', 'HEAD', 'POST']);
      return {
        method,
        target: `${prefix}/${p.pick(['a', 'b/c', '', 'x?y=1'])}`,
        headers,
        ownKeys: true,
        note: `burst ${i + 1}/${size} on ${byIp ? 'ip' : 'x-client'}`,
      };
    });
  },
};

const xff: FamilyDef = {
  name: 'xff',
  weight: 5,
  draw(p) {
    const values = [
      '203.0.113.9',
      '203.0.113.9, 10.0.0.1',
      '10.0.0.1, 10.0.0.2',
      '203.0.113.9,198.51.100.1',
      ' 203.0.113.9 ,  10.1.1.1 ',
      'junk',
      '203.0.113.9, junk, 10.0.0.1',
      '2001:db8::1',
      '[2001:db8::1]',
      '203.0.113.9:4711',
      '',
      ',',
      '127.0.0.1',
      '::1, 127.0.0.1',
      '999.1.1.1',
      '010.000.000.001',
      'unknown',
      '203.0.113.9, , 10.0.0.1',
      '::ffff:203.0.113.9',
    ];
    const headers = common(p);
    const lines = p.chance(0.2) ? 2 : p.chance(0.1) ? 0 : 1;
    for (let i = 0; i < lines; i++) headers.push([p.pick(['X-Forwarded-For', 'x-forwarded-for', 'X-FORWARDED-FOR']), p.pick(values)]);
    return [{ method: 'GET', target: p.pick(['/api/items/1', '/vary/x', '/status/404']), headers, ownKeys: true, note: 'x-forwarded-for' }];
  },
};

const headerRules: FamilyDef = {
  name: 'header-rules',
  weight: 5,
  draw(p) {
    const headers = common(p);
    for (let i = 0, c = p.range(1, 3); i < c; i++) {
      headers.push([
        p.pick(['X-Edge', 'x-edge', 'X-Tag', 'x-tag', 'X-TAG', 'X-Internal-Debug', 'x-internal-debug']),
        p.pick(['client', '', ' spaced ', 'a, b', 'edge']),
      ]);
    }
    return [{ method: p.pick(['GET', 'POST', 'HEAD']), target: p.pick(ORIGIN_PATHS), headers, note: 'request header rules' }];
  },
};

const framing: FamilyDef = {
  name: 'framing',
  weight: 5,
  draw(p) {
    const headers = common(p);
    const kind = p.pick([
      'chunked',
      'chunk-ext',
      'trailer',
      'cl-te',
      'te-gzip',
      'te-case',
      'cl-odd',
      'cl-short',
      'get-body',
      'expect',
      'big',
      'chunk-upper',
      'chunk-bad',
      'te-comma',
    ] as const);
    let b: string | undefined = 'hello world';
    let f: Draft['framing'] = 'raw';
    switch (kind) {
      case 'chunked':
        f = 'chunked';
        b = body(p);
        break;
      case 'chunk-ext':
        headers.push(['Transfer-Encoding', 'chunked']);
        b = '5;ext=1\r\nhello\r\n0\r\n\r\n';
        break;
      case 'trailer':
        headers.push(['Transfer-Encoding', 'chunked'], ['Trailer', 'X-Sum']);
        b = '5\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n';
        break;
      case 'cl-te':
        headers.push(['Content-Length', '16'], ['Transfer-Encoding', 'chunked']);
        b = '5\r\nhello\r\n0\r\n\r\n';
        break;
      case 'te-gzip':
        headers.push(['Transfer-Encoding', p.pick(['gzip, chunked', 'gzip', 'identity'])]);
        b = '5\r\nhello\r\n0\r\n\r\n';
        break;
      case 'te-case':
        headers.push(['Transfer-Encoding', p.pick(['Chunked', 'CHUNKED', ' chunked', 'chunked '])]);
        b = '5\r\nhello\r\n0\r\n\r\n';
        break;
      case 'te-comma':
        headers.push(['Transfer-Encoding', p.pick(['chunked, chunked', 'chunked,'])]);
        b = '5\r\nhello\r\n0\r\n\r\n';
        break;
      case 'cl-odd':
        headers.push(['Content-Length', p.pick(['0011', '+11', '11 ', '1_1', '-1', '11, 11', '0x0b', '99999999999999999999'])]);
        break;
      case 'cl-short':
        headers.push(['Content-Length', '5']);
        break;
      case 'get-body':
        f = 'length';
        return [{ method: 'GET', target: p.pick(ORIGIN_PATHS), headers, body: b, framing: f, note: 'framing get-body' }];
      case 'expect':
        f = 'length';
        headers.push(['Expect', p.pick(['100-continue', '100-Continue', 'something'])]);
        break;
      case 'big':
        f = p.chance(0.5) ? 'chunked' : 'length';
        b = 'B'.repeat(p.pick([65_536, 300_000, 1_100_000]));
        break;
      case 'chunk-upper':
        headers.push(['Transfer-Encoding', 'chunked']);
        b = '00B\r\nhello world\r\n0\r\n\r\n';
        break;
      case 'chunk-bad':
        headers.push(['Transfer-Encoding', 'chunked']);
        b = p.pick(['zz\r\nhello\r\n0\r\n\r\n', '5\nhello\n0\n\n', '-5\r\nhello\r\n0\r\n\r\n', '5 \r\nhello\r\n0\r\n\r\n']);
        break;
    }
    return [
      {
        method: p.pick(['POST', 'PUT']),
        target: p.pick(['/api/echo', '/api/items/1', '/status/500', '/x.php']),
        headers,
        body: b,
        framing: f,
        note: `framing ${kind}`,
      },
    ];
  },
};

const syntax: FamilyDef = {
  name: 'syntax',
  weight: 7,
  draw(p) {
    const headers = common(p);
    const draft: Draft = { method: 'GET', target: p.pick(ORIGIN_PATHS), headers, note: '' };
    const kind = p.pick([
      'obs-fold',
      'space-before-colon',
      'no-colon',
      'underscore',
      'tchar-name',
      'bad-name',
      'empty-name',
      'ctl-value',
      'high-value',
      'bare-lf',
      'http10',
      'http10-no-host',
      'http11-no-host',
      'version',
      'double-space',
      'tab',
      'leading-crlf',
      'lower-names',
      'ows',
    ] as const);
    draft.note = `syntax ${kind}`;
    switch (kind) {
      case 'obs-fold':
        headers.push(['X-Folded', 'first\r\n second']);
        break;
      case 'space-before-colon':
        headers.push([p.pick(['X-Attack ', 'Host ', 'X-Plain ']), 'yes']);
        break;
      case 'no-colon':
        headers.push(['X-No-Colon-Here\r\nX-After', 'v']);
        break;
      case 'underscore':
        headers.push([p.pick(['X_Attack', 'X_Forwarded_For', 'x_edge', 'User_Agent', 'X_Custom']), p.pick(['yes', '203.0.113.50', 'sqlmap'])]);
        break;
      case 'tchar-name':
        headers.push([p.pick(['X.Dotted', "X'Quote", 'X!Bang', 'X#Hash', 'X~Tilde', 'X|Pipe', 'X*Star', 'X$Dollar', 'X^Caret', 'X`Tick']), 'v']);
        break;
      case 'bad-name':
        headers.push([p.pick(['X@At', 'X(Paren)', 'X/Slash', 'X=Eq', 'X[B]', 'X{B}', 'X"Q', 'X\x7fDel', 'X\u00e9']), 'v']);
        break;
      case 'empty-name':
        headers.push(['', 'v']);
        break;
      case 'ctl-value':
        headers.push(['X-Ctl', p.pick(['a\x01b', 'a\x7fb', 'a\x00b', 'a\x0bb', 'a\rb'])]);
        break;
      case 'high-value':
        headers.push([p.pick(['X-High', 'User-Agent', 'X-Attack']), p.pick(['caf\u00e9', '\u00ff', 'sqlmap\u00e9'])]);
        break;
      case 'bare-lf':
        draft.eol = '\n';
        break;
      case 'http10':
        draft.version = 'HTTP/1.0';
        break;
      case 'http10-no-host':
        draft.version = 'HTTP/1.0';
        draft.headers = headers.filter(([n]) => n !== 'Host');
        break;
      case 'http11-no-host':
        draft.headers = headers.filter(([n]) => n !== 'Host');
        break;
      case 'version':
        draft.version = p.pick(['HTTP/2.0', 'HTTP/0.9', 'HTTP/1.2', 'HTTP/3.0', 'http/1.1', 'HTTP/1.10', 'HTTP/01.1', 'HTTP/1', 'HTTPS/1.1', '']);
        break;
      case 'double-space':
        draft.target = ` ${draft.target}`;
        break;
      case 'tab':
        draft.method = 'GET\t';
        break;
      case 'leading-crlf':
        draft.method = `\r\nGET`;
        break;
      case 'lower-names':
        draft.headers = headers.map(([n, v]) => [n.toLowerCase(), v]);
        break;
      case 'ows':
        headers.push([p.pick(['X-Attack', 'User-Agent', 'X-Plain']), p.pick(['  padded  ', '\tsqlmap', 'x\t', ' '])]);
        break;
    }
    return [draft];
  },
};

export const FAMILIES: readonly FamilyDef[] = [
  benign,
  encoding,
  duplicate,
  oversized,
  method,
  absolute,
  dots,
  cors,
  redirect,
  waf,
  burst,
  xff,
  headerRules,
  framing,
  syntax,
];
