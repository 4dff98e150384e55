/**
 * Child-process entry `net-floor PORT TARGET_PORT`: what Node costs per proxied request without
 * node:http and undici. A minimal HTTP/1.1 keep-alive relay on bare sockets: it finds the end
 * of each request's head and forwards the bytes as they are to an idle upstream connection, then
 * relays the answer, whose length it reads from Content-Length, back to the client.
 *
 * A measuring stick for the benchmark, not a proxy: GET without a body only, Content-Length
 * answers only, no header rewriting, no validation, no limits, no timeouts, no error answers.
 * Every one of those costs something; the figure says how much room the HTTP layers leave, not
 * what a proxy with them would cost. Prints "ready PORT" once listening.
 */
import { connect, createServer, type Socket } from 'node:net';

const [portArg, targetPort] = process.argv.slice(2).map(Number);
const HEAD_END = '\r\n\r\n';
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;

interface Client extends Socket {
  /** Bytes of a request head not complete yet. */
  head?: Buffer;
  /** Waiting for an answer: a next request (pipelined) waits in `queued`. */
  busy?: boolean;
  queued?: Buffer;
}

interface Upstream extends Socket {
  client?: Client;
  /** Bytes of an answer head not complete yet. */
  head?: Buffer;
  /** Body bytes of the current answer still to relay. */
  remaining: number;
}

const idle: Upstream[] = [];

/**
 * Adds `d` to the message head being read in `x.head`: the index of the head's end in `x.head`
 * once it is whole (the caller takes `x.head` then), else -1.
 */
function readHead(x: { head?: Buffer }, d: Buffer): number {
  x.head = x.head ? Buffer.concat([x.head, d]) : d;
  return x.head.indexOf(HEAD_END);
}

function upstream(): Upstream {
  const kept = idle.pop();
  if (kept) return kept;
  const u = connect(targetPort!, '127.0.0.1') as Upstream;
  u.setNoDelay(true);
  u.remaining = 0;
  u.on('data', (d: Buffer) => fromUpstream(u, d));
  u.on('error', () => u.client?.destroy());
  // An origin closes idle keep-alive connections (node:http after 5 s): never hand one out again.
  u.on('close', () => {
    const i = idle.indexOf(u);
    if (i >= 0) idle.splice(i, 1);
    u.client?.destroy();
  });
  return u;
}

function fromUpstream(u: Upstream, d: Buffer): void {
  const c = u.client;
  if (!c) return;
  if (u.remaining > 0) {
    u.remaining -= d.length;
    c.write(d);
  } else {
    const end = readHead(u, d);
    if (end < 0) return;
    const buf = u.head!;
    u.head = undefined;
    const length = Number(CONTENT_LENGTH.exec(buf.toString('latin1', 0, end))?.[1] ?? 0);
    u.remaining = end + 4 + length - buf.length;
    c.write(buf);
  }
  if (u.remaining > 0) return;
  u.client = undefined;
  idle.push(u);
  c.busy = false;
  const next = c.queued;
  c.queued = undefined;
  if (next) fromClient(c, next);
}

function fromClient(c: Client, d: Buffer): void {
  if (c.busy) {
    c.queued = c.queued ? Buffer.concat([c.queued, d]) : d;
    return;
  }
  const end = readHead(c, d);
  if (end < 0) return;
  const buf = c.head!;
  c.head = undefined;
  const rest = buf.subarray(end + 4);
  if (rest.length) c.queued = rest;
  c.busy = true;
  const u = upstream();
  u.client = c;
  u.write(buf.subarray(0, end + 4));
}

const server = createServer((socket) => {
  const c = socket as Client;
  c.setNoDelay(true);
  c.on('data', (d: Buffer) => fromClient(c, d));
  c.on('error', () => c.destroy());
});
server.listen(portArg ?? 0, '127.0.0.1', () => process.stdout.write(`ready ${(server.address() as { port: number }).port}\n`));
process.on('SIGTERM', () => process.exit(0));
