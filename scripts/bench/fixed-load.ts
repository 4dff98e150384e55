/**
 * A load of exactly `requests` requests, for a count that must not depend on time (the
 * instruction counts of bench-instructions.ts): the same GET on `connections` keep-alive
 * connections, each sending its next request when the previous answer is whole. Raw sockets, so
 * that the client's own work is small and the same for every proxy. Answers must carry
 * Content-Length (the benchmark's origins send it, and so do the proxies in front of them); a HEAD
 * is never sent.
 */
import { connect } from 'node:net';

export interface FixedLoadResult {
  /** Whole answers, by status code. */
  statuses: Record<string, number>;
  /** Answers this client could not frame, and connections that failed. */
  errors: number;
  ms: number;
}

const HEAD_END = '\r\n\r\n';
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;

/** `paths` (a request mix) are sent in turn; without them, the URL's own path. */
export function fixedLoad(url: string, requests: number, connections: number, paths?: readonly string[]): Promise<FixedLoadResult> {
  const u = new URL(url);
  const reqs = (paths ?? [`${u.pathname}${u.search}`]).map((p) =>
    Buffer.from(`GET ${p} HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: switchyard-bench\r\nAccept: */*\r\n\r\n`, 'latin1'),
  );
  const t0 = performance.now();
  let sent = 0;
  const statuses: Record<string, number> = {};
  let errors = 0;
  let open = 0;
  return new Promise((resolve) => {
    const finished = () => {
      if (--open === 0) resolve({ statuses, errors, ms: performance.now() - t0 });
    };
    for (let i = 0; i < Math.min(connections, requests); i++) {
      open++;
      const s = connect(Number(u.port), u.hostname);
      let buf = '';
      const next = () => {
        if (sent < requests) {
          s.write(reqs[sent++ % reqs.length]!);
        } else s.end();
      };
      s.setEncoding('latin1');
      s.on('connect', next);
      s.on('data', (d: string) => {
        buf += d;
        for (;;) {
          const end = buf.indexOf(HEAD_END);
          if (end < 0) return;
          const m = CONTENT_LENGTH.exec(buf.slice(0, end + 2));
          if (!m) {
            // Not a framing this client reads: count it and stop this connection.
            errors++;
            s.destroy();
            return;
          }
          const whole = end + 4 + Number(m[1]);
          if (buf.length < whole) return;
          const status = buf.slice(9, 12);
          statuses[status] = (statuses[status] ?? 0) + 1;
          buf = buf.slice(whole);
          next();
        }
      });
      s.on('error', () => errors++);
      s.on('close', finished);
    }
  });
}
