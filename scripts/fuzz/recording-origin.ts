/**
 * The fuzz's origin: records what each request looked like when it arrived (method, target,
 * every header line in order, a digest of the body), filed under its X-Fuzz-Id, and answers in a
 * way the path steers, so that the response header rules and CORS meet varied origin answers:
 *
 *   /status/N    status N (a 204 or 304 without a body)
 *   /chunked…    a chunked body
 *   /big…        a 64 KiB body
 *   /vary…       Vary: Accept-Encoding, which CORS must extend, not replace
 *   else         200 with a small JSON body
 *
 * Every answer carries Server, X-Powered-By, Cache-Control, an ETag and two Set-Cookie lines.
 *
 * It reads HTTP/1.1 off the socket itself rather than through node:http: Node's parser refuses
 * some bytes one implementation forwards (a raw byte above 0x7F in the target, say), and the
 * point is to see exactly what each one sent. Both send well-formed requests (Content-Length or
 * chunked bodies, keep-alive), which is all this reader understands.
 */
import { createHash } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { FUZZ_ID } from './generate.js';

export interface Received {
  method: string;
  /** The request target as sent, bytes as Latin-1 characters. */
  target: string;
  /** Every header line as received: lower-case name and value, in order. */
  headers: [string, string][];
  bodyBytes: number;
  bodySha256: string;
}

export interface RecordingOrigin {
  port: number;
  /** What arrived under this id (none, one, or more when a request was duplicated). */
  received(id: string): Received[];
  /** Requests that carried no X-Fuzz-Id (a smuggled request, say), or that it could not read. */
  anonymous(): number;
  close(): Promise<void>;
}

function reply(req: Received): Buffer {
  const path = req.target.split('?')[0] ?? '/';
  const status = Number(/\/status\/(\d{3})/.exec(path)?.[1] ?? 200);
  const head = [
    `HTTP/1.1 ${status} Fuzz`,
    'content-type: application/json',
    'server: fuzz-origin',
    'x-powered-by: fuzz',
    'cache-control: no-store',
    'etag: "v1"',
    'set-cookie: a=1; Path=/',
    'set-cookie: b=2; Path=/; HttpOnly',
    'x-request-id: origin-fixed',
  ];
  if (path.startsWith('/vary')) head.push('vary: Accept-Encoding');
  if (status >= 300 && status < 400 && status !== 304) head.push('location: /elsewhere');
  const bodyless = status === 204 || status === 304;
  const body = bodyless ? '' : path.startsWith('/big') ? JSON.stringify({ blob: 'b'.repeat(65_536) }) : JSON.stringify({ ok: status < 400, status });
  const send = req.method === 'HEAD' ? '' : body;
  if (path.startsWith('/chunked') && !bodyless) {
    head.push('transfer-encoding: chunked');
    const chunks = send ? `${Buffer.byteLength(send).toString(16)}\r\n${send}\r\n0\r\n\r\n` : req.method === 'HEAD' ? '' : '0\r\n\r\n';
    return Buffer.from(`${head.join('\r\n')}\r\n\r\n${chunks}`, 'latin1');
  }
  if (!bodyless) head.push(`content-length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${send}`, 'latin1');
}

/** The body of a chunked message starting at `at`: its bytes and where the message ends, or undefined when incomplete. */
function chunkedBody(buf: Buffer, at: number): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  for (;;) {
    const eol = buf.indexOf('\r\n', at, 'latin1');
    if (eol === -1) return undefined;
    const size = Number.parseInt(buf.subarray(at, eol).toString('latin1').split(';')[0]!, 16);
    at = eol + 2;
    if (!Number.isFinite(size)) throw new Error('bad chunk size');
    if (size === 0) {
      const end = buf.indexOf('\r\n\r\n', at - 2, 'latin1');
      return end === -1 ? undefined : { body: Buffer.concat(parts), end: end + 4 };
    }
    if (buf.length < at + size + 2) return undefined;
    parts.push(buf.subarray(at, at + size));
    at += size + 2;
  }
}

/** One whole request at the start of `buf`, or undefined when more bytes are needed. */
function readRequest(buf: Buffer): { req: Received; id: string | undefined; close: boolean; used: number } | undefined {
  const headEnd = buf.indexOf('\r\n\r\n', 0, 'latin1');
  if (headEnd === -1) return undefined;
  const [line = '', ...rest] = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
  const [method = '', target = '', version = ''] = line.split(' ');
  const headers: [string, string][] = rest.map((l) => {
    const colon = l.indexOf(':');
    return [l.slice(0, colon).toLowerCase(), l.slice(colon + 1).trim()];
  });
  const value = (name: string) => headers.find(([n]) => n === name)?.[1];
  let body: Buffer;
  let used: number;
  if (/chunked/i.test(value('transfer-encoding') ?? '')) {
    const chunked = chunkedBody(buf, headEnd + 4);
    if (!chunked) return undefined;
    body = chunked.body;
    used = chunked.end;
  } else {
    const length = Number(value('content-length') ?? 0);
    if (buf.length < headEnd + 4 + length) return undefined;
    body = buf.subarray(headEnd + 4, headEnd + 4 + length);
    used = headEnd + 4 + length;
  }
  const connection = (value('connection') ?? '').toLowerCase();
  const req: Received = { method, target, headers, bodyBytes: body.length, bodySha256: createHash('sha256').update(body).digest('hex').slice(0, 16) };
  return { req, id: value(FUZZ_ID), close: connection.includes('close') || (version === 'HTTP/1.0' && !connection.includes('keep-alive')), used };
}

export async function startRecordingOrigin(): Promise<RecordingOrigin> {
  const byId = new Map<string, Received[]>();
  const sockets = new Set<Socket>();
  let anonymous = 0;
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf = Buffer.alloc(0);
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      for (;;) {
        let got: ReturnType<typeof readRequest>;
        try {
          got = readRequest(buf);
        } catch {
          anonymous++;
          sock.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
          return;
        }
        if (!got) return;
        buf = buf.subarray(got.used);
        if (got.id === undefined) anonymous++;
        else byId.set(got.id, [...(byId.get(got.id) ?? []), got.req]);
        // Recorded before the answer leaves: when a client has its answer, the record is there.
        const answer = reply(got.req);
        if (got.close) return void sock.end(answer);
        sock.write(answer);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    received: (id) => byId.get(id) ?? [],
    anonymous: () => anonymous,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
