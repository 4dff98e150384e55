/**
 * Clients and a recording backend for the HTTP/2 and TLS listener tests: node:http2 requests,
 * curl (HTTP/2 through nghttp2, installed by scripts/ensure-deps.sh), and a backend that records
 * what reached it and can hold a response open.
 */
import { execFile } from 'node:child_process';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { ClientHttp2Session, IncomingHttpHeaders as H2Headers } from 'node:http2';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { startServer, type TestServer } from './servers.js';

export const run = promisify(execFile);

export interface Seen {
  backend: string;
  method: string;
  url: string;
  version: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Recorder {
  seen: Seen[];
  /** /stream responses started, and those torn down before they ended. */
  streams: { started: number; closedEarly: number };
  last(url: string): Seen;
}

export function recorder(): Recorder {
  const seen: Seen[] = [];
  return { seen, streams: { started: 0, closedEarly: 0 }, last: (url) => seen.filter((s) => s.url === url).at(-1)! };
}

/**
 * Answers JSON naming itself and echoing the body; `/hop` answers with connection-specific
 * headers (RFC 9113 §8.2.2 forbids them in HTTP/2); `/stream` sends one chunk and never ends.
 */
export function recordingBackend(name: string, r: Recorder): Promise<TestServer> {
  return startServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/stream') {
      r.streams.started++;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk\n');
      res.once('close', () => {
        if (!res.writableEnded) r.streams.closedEarly++;
      });
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      r.seen.push({ backend: name, method: req.method!, url: req.url!, version: req.httpVersion, headers: req.headers, body });
      if (req.url === '/hop') {
        res.writeHead(200, { connection: 'keep-alive', 'keep-alive': 'timeout=5', 'x-ok': '1' });
        res.write('chunked ');
        return void res.end('body');
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ backend: name, url: req.url, body }));
    });
  });
}

export interface H2Reply {
  status: number;
  headers: H2Headers;
  body: string;
}

/** One request on an HTTP/2 session; a list body is written in as many DATA frames, without content-length. */
export function h2Request(session: ClientHttp2Session, headers: Record<string, string>, body?: string | string[]): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let text = '';
    let got: H2Headers = {};
    stream.setEncoding('utf8');
    stream.on('response', (h) => (got = h));
    stream.on('data', (c: string) => (text += c));
    stream.on('end', () => resolve({ status: Number(got[':status']), headers: got, body: text }));
    stream.on('error', reject);
    if (typeof body === 'string') stream.end(body);
    else if (body) {
      for (const part of body) stream.write(part);
      stream.end();
    }
  });
}

/**
 * curl, one URL per run (curl 7.88 fails a second request it multiplexes on a node:http2
 * connection with prior knowledge); the body, then the status and the HTTP version it spoke.
 */
export async function curl(args: string[]): Promise<{ status: number; version: string; body: string }> {
  const { stdout } = await run('curl', ['-sS', '--max-time', '10', '-w', '\n%{http_code} %{http_version}', ...args]);
  const cut = stdout.lastIndexOf('\n');
  const [status, version] = stdout.slice(cut + 1).split(' ');
  return { status: Number(status), version: version!, body: stdout.slice(0, cut) };
}

/** A logger sink that keeps every JSON line it is given, parsed (access lines, reload lines). */
export function jsonLines(): { sink: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { sink, lines };
}
