/**
 * One request over a raw TCP connection, and the answer parsed without a client library's
 * normalisation: every header line as sent, the body with its framing removed, and whatever came
 * after the first whole response (a second response would mean the request was split in two).
 */
import { connect } from 'node:net';

export interface Answer {
  /** The first final status; 0 when nothing parseable came back. */
  status: number;
  /** Every header line: lower-case name, value without surrounding whitespace, in order. */
  headers: [string, string][];
  /** Content-Length or chunked framing removed. */
  body: Buffer;
  /** Framing: how the body was delimited. */
  framing: 'length' | 'chunked' | 'close' | 'none';
  /** Bytes after the first whole response, as Latin-1. */
  rest: string;
  /** How the exchange ended: "linger" is a server that kept the connection open after a whole answer. */
  end: 'closed' | 'reset' | 'linger' | 'timeout';
  /** The first final response arrived whole. */
  complete: boolean;
}

function decodeChunked(data: Buffer): { body: Buffer; used: number } | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at, 'latin1');
    if (eol === -1) return undefined;
    const size = Number.parseInt(data.subarray(at, eol).toString('latin1').split(';')[0]!.trim(), 16);
    if (!Number.isFinite(size)) return undefined;
    at = eol + 2;
    if (size === 0) {
      // Trailer section, up to the empty line.
      const end = data.indexOf('\r\n\r\n', at - 2, 'latin1');
      return end === -1 ? undefined : { body: Buffer.concat(parts), used: end + 4 };
    }
    parts.push(data.subarray(at, at + size));
    at += size + 2;
  }
}

/** Parses the first final response of `data` (1xx interim responses are skipped). */
function parseAnswer(data: Buffer, method: string): Omit<Answer, 'end'> {
  let at = 0;
  for (;;) {
    const headEnd = data.indexOf('\r\n\r\n', at, 'latin1');
    const head = data.subarray(at, headEnd === -1 ? data.length : headEnd).toString('latin1');
    const status = Number(/^HTTP\/\d(?:\.\d)? (\d{3})/.exec(head)?.[1] ?? 0);
    if (status === 0 || headEnd === -1)
      return { status, headers: [], body: Buffer.alloc(0), framing: 'none', rest: data.subarray(at).toString('latin1'), complete: false };
    const headers: [string, string][] = [];
    for (const line of head.split('\r\n').slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]);
    }
    const start = headEnd + 4;
    if (status < 200 && status !== 101) {
      at = start;
      continue;
    }
    const value = (name: string) => headers.find(([n]) => n === name)?.[1];
    if (method === 'HEAD' || status === 204 || status === 304 || status === 101) {
      return { status, headers, body: Buffer.alloc(0), framing: 'none', rest: data.subarray(start).toString('latin1'), complete: true };
    }
    if (/\bchunked\b/i.test(value('transfer-encoding') ?? '')) {
      const decoded = decodeChunked(data.subarray(start));
      if (decoded)
        return { status, headers, body: decoded.body, framing: 'chunked', rest: data.subarray(start + decoded.used).toString('latin1'), complete: true };
      return { status, headers, body: data.subarray(start), framing: 'chunked', rest: '', complete: false };
    }
    const length = value('content-length');
    if (length !== undefined && /^\d+$/.test(length)) {
      const end = start + Number(length);
      return { status, headers, body: data.subarray(start, end), framing: 'length', rest: data.subarray(end).toString('latin1'), complete: data.length >= end };
    }
    return { status, headers, body: data.subarray(start), framing: 'close', rest: '', complete: false };
  }
}

/**
 * Writes `raw` and reads until the server closes (every fuzz request says Connection: close) or
 * resets, `lingerMs` after a whole answer arrived (nginx may hold a connection open after a 400),
 * or `capMs` passes: caps for a server that hangs, reported as such, not waits.
 */
export function exchange(port: number, raw: Buffer, method: string, capMs: number, lingerMs = 300): Promise<Answer> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let finished = false;
    let linger: NodeJS.Timeout | undefined;
    const done = (end: Answer['end']) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(linger);
      sock.destroy();
      resolve({ ...parseAnswer(Buffer.concat(chunks), method), end });
    };
    const timer = setTimeout(() => done('timeout'), capMs);
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      if (!linger && parseAnswer(Buffer.concat(chunks), method).complete) linger = setTimeout(() => done('linger'), lingerMs);
    });
    sock.on('end', () => done('closed'));
    sock.on('close', () => done('closed'));
    // A server that answers before reading the whole body may reset the connection: what
    // arrived until then is the answer.
    sock.on('error', () => done('reset'));
    sock.write(raw);
  });
}
