/** Raw TCP exchanges, for requests no well-behaved HTTP client would send. */
import { connect } from 'node:net';

export interface RawReply {
  text: string;
  status: number;
  /** True when the server closed the connection. */
  closed: boolean;
}

/** Writes `data`, then collects what comes back until the server closes or `waitMs` passes. */
export function rawExchange(port: number, data: string | Buffer, waitMs = 1500): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      sock.destroy();
      resolve({ text, status: m ? Number(m[1]) : 0, closed });
    };
    const timer = setTimeout(done, waitMs);
    sock.on('data', (c) => chunks.push(c));
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
