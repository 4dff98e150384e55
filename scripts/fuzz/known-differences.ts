/**
 * The differences between the legacy layer and the pipeline that are documented, each a named
 * classifier tied to one row of docs/products.md's table "Where implementations differ" by the
 * row's first cell (a test checks that every classifier names an existing row and every row has
 * a classifier). A classifier explains a request's differences only when the request has the
 * property the row names and the two answers are the ones the row gives; then every differing
 * field follows from those answers.
 *
 * BEING_FIXED_ELSEWHERE holds classes other branches are removing (issue 11): they have no row,
 * and each is deleted when its fix lands.
 */
import { METHODS } from 'node:http';
import type { FieldDiff, Observation } from './compare.js';
import type { FuzzRequest } from './generate.js';
import { type RequestHead, readHead, values } from './request-head.js';

export interface Exchange {
  req: FuzzRequest;
  head: RequestHead;
  legacy: Observation;
  pipeline: Observation;
  diffs: readonly FieldDiff[];
}

export interface Classifier {
  name: string;
  /** The first cell of its row in docs/products.md, "Where implementations differ"; "" when temporary. */
  row: string;
  /** A class another change is removing: no row, deleted when that change lands. */
  temporary: boolean;
  /** Whether this difference accounts for every field of the exchange's diffs. */
  explains(x: Exchange): boolean;
}

function responseHeader(o: Observation, name: string): string | undefined {
  return o.answer.headers.find(([n]) => n === name)?.[1];
}

/** The JSON body; for HEAD, what followed the head (the pipeline's parser refusals send it). */
function json(o: Observation): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(o.answer.body.length ? o.answer.body.toString('utf8') : o.answer.rest);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** nginx's own error page: its core answered, before the Lua products. */
function nginxPage(o: Observation): boolean {
  return responseHeader(o, 'content-type') === 'text/html';
}

/**
 * An error of the catalogue (src/errors.ts) answered by the pipeline service itself. A reply to
 * HEAD through the pipeline has no body to show the code: its JSON type tells it apart.
 */
function catalogueError(o: Observation, status: number): boolean {
  if (o.answer.status !== status) return false;
  const body = json(o);
  if (body === undefined) return o.answer.body.length === 0 && o.answer.rest === '' && responseHeader(o, 'content-type') === 'application/json';
  return typeof body.code === 'string' && body.code.startsWith('SWY_ERR_CLIENT_');
}

/** The pipeline refused the request before any module: a catalogue 400, nothing forwarded. */
function pipelineRefused(x: Exchange, status = 400): boolean {
  return catalogueError(x.pipeline, status) && x.pipeline.received.length === 0;
}

/** The legacy layer answered through its products: forwarded, or a local reply of a product. */
function legacyServed(x: Exchange): boolean {
  return x.legacy.answer.status !== 0 && !nginxPage(x.legacy);
}

/** Every difference is in what the origin received, in headers whose names pass `name`. */
function onlyOriginHeaders(x: Exchange, name: (n: string) => boolean): boolean {
  return x.diffs.every((d) => d.field.startsWith('origin header ') && name(d.field.slice('origin header '.length)) && d.legacy === '(none)');
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const CONTROL_IN_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const PAGE_FIELDS = new Set([
  'header content-type',
  'header content-length',
  'body',
  'rest',
  'header x-frame-options',
  'header x-content-type-options',
  'header cache-control',
]);

/** Strict chunked framing (RFC 9112 §7.1): hex size, optional extensions, CRLF everywhere. */
function strictChunked(body: string): boolean {
  let at = 0;
  for (;;) {
    const m = /^([0-9A-Fa-f]+)(;[^\r\n]*)?\r\n/.exec(body.slice(at));
    if (!m) return false;
    const size = Number.parseInt(m[1]!, 16);
    at += m[0].length;
    if (size === 0) return /^([!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\r\n]*\r\n)*\r\n/.test(body.slice(at));
    if (body.slice(at + size, at + size + 2) !== '\r\n') return false;
    at += size + 2;
  }
}

function chunked(head: RequestHead): boolean {
  return values(head, 'transfer-encoding').some((v) => /chunked/i.test(v));
}

export const DOCUMENTED: readonly Classifier[] = [
  {
    name: 'refused before the products: error page against catalogue JSON',
    row: 'a request both refuse before any product runs (a malformed request line or header, a repeated `Host`, `%00`, a dot segment above the root, a request line over 8 KiB)',
    temporary: false,
    explains: (x) =>
      x.legacy.answer.status === x.pipeline.answer.status &&
      nginxPage(x.legacy) &&
      catalogueError(x.pipeline, x.pipeline.answer.status) &&
      x.diffs.every((d) => PAGE_FIELDS.has(d.field)),
  },
  {
    name: 'header line over 8 KiB: 400 against 431',
    row: 'a header line over 8 KiB',
    temporary: false,
    explains: (x) => x.head.lines.some((l) => l.length > 8192) && x.legacy.answer.status === 400 && nginxPage(x.legacy) && pipelineRefused(x, 431),
  },
  {
    name: 'PCRE match limit: blocked against matched',
    row: "a WAF pattern that backtracks past PCRE's match limit (`^/x/(a+)+$` against `/x/aaa…a!`)",
    temporary: false,
    // Rule 1009 of test/fuzz/products.yaml is "^/x/(a+)+$", which is "^/x/a+$" without the
    // backtracking; no other rule blocks a path of "a"s under /x/ (a 403 to HEAD has no body).
    explains: (x) => {
      const path = (x.head.target.split('?')[0] ?? '').replace(/%61/gi, 'a');
      return (
        x.legacy.answer.status === 403 &&
        (json(x.legacy)?.rule === '1009' || (x.head.method === 'HEAD' && path.startsWith('/x/a') && !path.includes('php'))) &&
        x.pipeline.answer.status !== 403 &&
        !/^\/x\/a+$/.test(path)
      );
    },
  },
  {
    name: 'unknown method token: 405 against 400',
    row: 'an unknown method token (`BREW`)',
    temporary: false,
    explains: (x) =>
      /^[A-Z_-]+$/.test(x.head.method) &&
      !METHODS.includes(x.head.method) &&
      x.legacy.answer.status === 405 &&
      json(x.legacy)?.error === 'method_not_allowed' &&
      pipelineRefused(x),
  },
  {
    name: 'byte above 0x7F in the target: forwarded against 400',
    row: 'a byte above 0x7F in the request target (a raw `é`)',
    temporary: false,
    explains: (x) => /[\x80-\xff]/.test(x.head.target) && legacyServed(x) && pipelineRefused(x),
  },
  {
    name: 'bare LF line ends: served against 400',
    row: 'a request head with bare LF line ends',
    temporary: false,
    explains: (x) => x.head.bareLf && legacyServed(x) && pipelineRefused(x),
  },
  {
    name: 'invalid header line: ignored against 400',
    row: 'a header line without a colon, or whose name has a character that is no token character (`X@At`, `X[B]`)',
    temporary: false,
    explains: (x) => x.head.lines.some((l) => !l.includes(':') || !TOKEN.test(l.slice(0, l.indexOf(':')))) && legacyServed(x) && pipelineRefused(x),
  },
  {
    name: 'token header name nginx drops: dropped against forwarded',
    row: 'a header name with a token character other than a letter, digit, `-` or `_` (`X.Dotted`, `X!Bang`)',
    temporary: false,
    explains: (x) => x.diffs.length > 0 && onlyOriginHeaders(x, (n) => TOKEN.test(n) && /[^a-z0-9_-]/.test(n)),
  },
  {
    name: 'control character in a header value: forwarded against 400',
    row: 'a control character other than tab in a header value (`\\x01`, `\\x0b`, DEL)',
    temporary: false,
    explains: (x) => x.head.headers.some(([, v]) => CONTROL_IN_VALUE.test(v)) && legacyServed(x) && pipelineRefused(x),
  },
  {
    name: 'transfer coding other than chunked: 501 against 400',
    row: 'a `Transfer-Encoding` other than `chunked` alone (`gzip, chunked`, `chunked,`, `identity`)',
    temporary: false,
    explains: (x) =>
      values(x.head, 'transfer-encoding').some((v) => v.toLowerCase() !== 'chunked') &&
      x.legacy.answer.status === 501 &&
      (pipelineRefused(x) || (x.pipeline.answer.status < 500 && x.pipeline.received.length === 0 && json(x.pipeline)?.error === 'blocked')),
  },
  {
    name: 'lenient chunk framing: served against 400',
    row: 'chunked framing nginx tolerates: whitespace after the chunk size (`5 \\r\\n`), bare LF line ends',
    temporary: false,
    explains: (x) => chunked(x.head) && !strictChunked(x.head.body) && legacyServed(x) && pipelineRefused(x),
  },
  {
    name: 'malformed chunked body on a local reply: no answer against the reply',
    row: 'a malformed chunked body on a request the edge answers itself (a WAF hit)',
    temporary: false,
    explains: (x) =>
      chunked(x.head) &&
      !strictChunked(x.head.body) &&
      x.legacy.answer.status === 0 &&
      x.legacy.received.length === 0 &&
      x.pipeline.received.length === 0 &&
      typeof json(x.pipeline)?.error === 'string',
  },
  {
    name: 'HTTP/1.x minor version other than 0 and 1: served against 400',
    row: 'an `HTTP/1.x` version other than 1.0 and 1.1 (`HTTP/1.2`, `HTTP/1.10`)',
    temporary: false,
    explains: (x) => /^HTTP\/0*1\.\d+$/.test(x.head.version) && !/^HTTP\/1\.[01]$/.test(x.head.version) && legacyServed(x) && pipelineRefused(x),
  },
  {
    name: 'HTTP major version other than 1: 505 against 400',
    row: 'an HTTP version above 2 (`HTTP/3.0`)',
    temporary: false,
    explains: (x) =>
      /^HTTP\/\d+\.\d+$/.test(x.head.version) &&
      Number(x.head.version.slice(5, x.head.version.indexOf('.'))) > 2 &&
      x.legacy.answer.status === 505 &&
      pipelineRefused(x),
  },
  {
    name: 'no Host: none forwarded against the origin address',
    row: 'a request without `Host` (HTTP/1.0)',
    temporary: false,
    explains: (x) =>
      values(x.head, 'host').length === 0 && x.diffs.length === 1 && x.diffs[0]!.field === 'origin header host' && x.diffs[0]!.legacy === '(none)',
  },
  {
    name: 'bytes after the body: answer against 400',
    row: "bytes after a request's body that form no valid request (`Content-Length: 5` and 11 bytes of body)",
    temporary: false,
    explains: (x) => {
      const lengths = values(x.head, 'content-length');
      return (
        lengths.length === 1 &&
        Buffer.byteLength(x.head.body, 'latin1') > Number(lengths[0]) &&
        catalogueError(x.pipeline, 400) &&
        x.legacy.received.length === 1 &&
        // The 400 may cut the forward short before the origin sees it.
        (x.pipeline.received.length === 0 || x.diffs.every((d) => !d.field.startsWith('origin')))
      );
    },
  },
  {
    name: 'empty first line of a header an add rule extends: dropped against kept',
    row: 'a client header that a request `add` rule extends, with an empty first line (`X-Tag: `)',
    temporary: false,
    // test/fuzz/products.yaml adds "edge" to X-Tag.
    explains: (x) =>
      values(x.head, 'x-tag')[0] === '' &&
      x.diffs.length === 1 &&
      x.diffs[0]!.field === 'origin header x-tag' &&
      x.diffs[0]!.pipeline === JSON.stringify(`, ${JSON.parse(x.diffs[0]!.legacy) as string}`),
  },
];

/** Being fixed on other branches of issue 11; delete each when its fix lands. */
export const BEING_FIXED_ELSEWHERE: readonly Classifier[] = [
  {
    name: 'TEMPORARY header size limits, per line and total (parity branch, issue 11 item 3.1)',
    row: '',
    temporary: true,
    explains: (x) => {
      const head = x.req.raw.indexOf('\r\n\r\n');
      return (
        (head === -1 || head > 8000) && (x.pipeline.answer.status === 431 || /Request Header Or Cookie Too Large/.test(x.legacy.answer.body.toString('latin1')))
      );
    },
  },
  {
    name: "TEMPORARY TRACE answered by nginx's own 405 page (parity branch, issue 11 item 3.2)",
    row: '',
    temporary: true,
    explains: (x) => x.head.method === 'TRACE' && x.legacy.answer.status === 405 && nginxPage(x.legacy),
  },
  {
    name: 'TEMPORARY underscores in header names (parity branch, issue 11 item 3.3)',
    row: '',
    temporary: true,
    explains: (x) => x.diffs.length > 0 && onlyOriginHeaders(x, (n) => n.includes('_') && /^[a-z0-9_-]+$/.test(n)),
  },
  {
    name: 'TEMPORARY CONNECT closed without an answer by the pipeline (edges branch, issue 11 item 10.2)',
    row: '',
    temporary: true,
    explains: (x) => x.head.method === 'CONNECT' && x.pipeline.answer.status === 0,
  },
  {
    name: 'TEMPORARY HTTP/2.0 and HTTP/0.9 request lines (edges branch, issue 11 item 10.3)',
    row: '',
    temporary: true,
    explains: (x) => ['HTTP/2.0', 'HTTP/0.9', ''].includes(x.head.version),
  },
];

export function classify(req: FuzzRequest, legacy: Observation, pipeline: Observation, diffs: readonly FieldDiff[]): Classifier | undefined {
  const x: Exchange = { req, head: readHead(req.raw), legacy, pipeline, diffs };
  return [...DOCUMENTED, ...BEING_FIXED_ELSEWHERE].find((c) => c.explains(x));
}
