/** Raw TCP exchanges, for requests no well-behaved HTTP client would send. */
import { connect } from 'node:net';

export interface RawReply {
  text: string;
  status: number;
  /** True when the server closed the connection. */
  closed: boolean;
}

export interface RawOptions {
  /** Ends the exchange as soon as this holds for what arrived (for a connection kept open). */
  until?: (text: string) => boolean;
  /** A cap in ms, not a synchronisation: the exchange normally ends on close or `until`. */
  capMs?: number;
}

/** Whether `text` holds one whole HTTP/1.1 response (Content-Length or chunked body). */
export function wholeResponse(text: string): boolean {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return false;
  const head = text.slice(0, end);
  const body = text.slice(end + 4);
  const len = /^content-length: *(\d+)$/im.exec(head);
  if (len) return Buffer.byteLength(body, 'latin1') >= Number(len[1]);
  if (/^transfer-encoding: *chunked$/im.test(head)) return /(^|\r\n)0\r\n(.*\r\n)*\r\n$/.test(body);
  return false;
}

/** Writes `data`, then collects what comes back until the server closes (or `until` holds). */
export function rawExchange(port: number, data: string | Buffer, opts: number | RawOptions = {}): Promise<RawReply> {
  const { until, capMs = 10_000 } = typeof opts === 'number' ? { capMs: opts } : opts;
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closed = false;
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      sock.destroy();
      resolve({ text, status: m ? Number(m[1]) : 0, closed });
    };
    const timer = setTimeout(done, capMs);
    sock.on('data', (c) => {
      chunks.push(c);
      if (until?.(Buffer.concat(chunks).toString('latin1'))) done();
    });
    sock.on('end', () => {
      closed = true;
      done();
    });
    sock.on('close', () => {
      closed = true;
      done();
    });
    sock.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? ((closed = true), done()) : reject(err)));
    sock.write(data);
  });
}
