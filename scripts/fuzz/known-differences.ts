/**
 * The differences between the legacy layer and the pipeline that are documented, each a named
 * classifier tied to one row of docs/products.md's table "Where implementations differ" by the
 * row's first cell (a test checks that every classifier names an existing row and every row has
 * a classifier). A classifier explains a request's differences only when the request has the
 * property the row names and the two answers are the ones the row gives; then every differing
 * field follows from those answers.

 */
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
  /** The first cell of its row in docs/products.md, "Where implementations differ". */
  row: string;
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
    explains: (x) =>
      x.legacy.answer.status === x.pipeline.answer.status &&
      nginxPage(x.legacy) &&
      catalogueError(x.pipeline, x.pipeline.answer.status) &&
      x.diffs.every((d) => PAGE_FIELDS.has(d.field)),
  },
  {
    name: 'PCRE match limit: blocked against matched',
    row: "a WAF pattern that backtracks past PCRE's match limit (`^/x/(a+)+$` against `/x/aaa…a!`)",
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
    name: 'byte above 0x7F in the target: forwarded against 400',
    row: 'a byte above 0x7F in the request target (a raw `é`)',
    explains: (x) => /[\x80-\xff]/.test(x.head.target) && legacyServed(x) && pipelineRefused(x),
  },
  {
    name: 'bare LF line ends: served against 400',
    row: 'a request head with bare LF line ends',
    explains: (x) => x.head.bareLf && legacyServed(x) && pipelineRefused(x),
  },
  {
    name: 'invalid header line: ignored against 400',
    row: 'a header line without a colon, or whose name has a character that is no token character (`X@At`, `X[B]`)',
    explains: (x) => x.head.lines.some((l) => !l.includes(':') || !TOKEN.test(l.slice(0, l.indexOf(':')))) && legacyServed(x) && pipelineRefused(x),
  },
  {
    name: 'control character in a header value: forwarded against 400',
    row: 'a control character other than tab in a header value (`\\x01`, `\\x0b`, DEL)',
    explains: (x) => x.head.headers.some(([, v]) => CONTROL_IN_VALUE.test(v)) && legacyServed(x) && pipelineRefused(x),
  },
  {
    name: 'transfer coding other than chunked: 501 against 400',
    row: 'a `Transfer-Encoding` other than `chunked` alone (`gzip, chunked`, `chunked,`, `identity`)',
    explains: (x) =>
      values(x.head, 'transfer-encoding').some((v) => v.toLowerCase() !== 'chunked') &&
      x.legacy.answer.status === 501 &&
      (pipelineRefused(x) || (x.pipeline.answer.status < 500 && x.pipeline.received.length === 0 && json(x.pipeline)?.error === 'blocked')),
  },
  {
    name: 'lenient chunk framing: served against 400',
    row: 'chunked framing nginx tolerates: whitespace after the chunk size (`5 \\r\\n`), bare LF line ends',
    explains: (x) => chunked(x.head) && !strictChunked(x.head.body) && legacyServed(x) && pipelineRefused(x),
  },
  {
    name: 'malformed chunked body on a local reply: no answer against the reply',
    row: 'a malformed chunked body on a request the edge answers itself (a WAF hit)',
    explains: (x) =>
      chunked(x.head) &&
      !strictChunked(x.head.body) &&
      x.legacy.answer.status === 0 &&
      x.legacy.received.length === 0 &&
      x.pipeline.received.length === 0 &&
      typeof json(x.pipeline)?.error === 'string',
  },
  {
    name: 'HTTP/0.9 simple request: served against 400',
    row: 'an HTTP/0.9 simple request (`GET /path` and no version)',
    // nginx answers with the body alone: no status line, so the observation has status 0.
    explains: (x) => x.head.version === '' && x.head.method === 'GET' && x.legacy.answer.status === 0 && pipelineRefused(x),
  },
  {
    name: 'HTTP/1.x minor version other than 0 and 1: served against 400',
    row: 'an `HTTP/1.x` version other than 1.0 and 1.1 (`HTTP/1.2`, `HTTP/1.10`)',
    explains: (x) => /^HTTP\/0*1\.\d+$/.test(x.head.version) && !/^HTTP\/1\.[01]$/.test(x.head.version) && legacyServed(x) && pipelineRefused(x),
  },
  {
    name: 'no Host: none forwarded against the origin address',
    row: 'a request without `Host` (HTTP/1.0)',
    explains: (x) =>
      values(x.head, 'host').length === 0 && x.diffs.length === 1 && x.diffs[0]!.field === 'origin header host' && x.diffs[0]!.legacy === '(none)',
  },
  {
    name: 'bytes after the body: answer against 400',
    row: "bytes after a request's body that form no valid request (`Content-Length: 5` and 11 bytes of body)",
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
    // test/fuzz/products.yaml adds "edge" to X-Tag.
    explains: (x) =>
      values(x.head, 'x-tag')[0] === '' &&
      x.diffs.length === 1 &&
      x.diffs[0]!.field === 'origin header x-tag' &&
      x.diffs[0]!.pipeline === JSON.stringify(`, ${JSON.parse(x.diffs[0]!.legacy) as string}`),
  },
  {
    name: 'padded header value at a limit: 431 against counted without the padding',
    row: 'a header line whose value is padded with whitespace (`Name:` and 9000 spaces before `v`), or written `Name:value`, at a limit',
    // The legacy layer counts the bytes received; the pipeline `Name: value` (edge-limits.ts):
    // only a head whose lines, counted without their padding, are within the limits.
    explains: (x) => {
      const padded = x.head.lines.some((l) => /:[ \t]{2,}|[ \t]{2,}$|^[^:]+:[^ \t]/.test(l));
      const counted = x.head.headers.map(([n, v]) => n.length + v.length + 4);
      return (
        padded &&
        x.legacy.answer.status === 431 &&
        x.pipeline.answer.status !== 431 &&
        counted.every((c) => c <= 8192) &&
        counted.reduce((a, b) => a + b, 0) + x.head.method.length + x.head.target.length + 14 <= 32768
      );
    },
  },
];

export function classify(req: FuzzRequest, legacy: Observation, pipeline: Observation, diffs: readonly FieldDiff[]): Classifier | undefined {
  const x: Exchange = { req, head: readHead(req.raw), legacy, pipeline, diffs };
  return DOCUMENTED.find((c) => c.explains(x));
}
