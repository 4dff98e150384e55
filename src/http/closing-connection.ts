/**
 * After a request refused at admission, its HTTP/1.x connection ends, as nginx ends it: the
 * refusal goes out with `connection: close`, and nothing the client pipelined behind it is
 * handled. Node's parser has often parsed those already (one read can hold several requests)
 * and emits each one; they are dropped here, unanswered and unlogged, as they would be on a
 * connection that was closed before they were read. An HTTP/2 stream's refusal leaves the
 * connection and its other streams alone.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { isHttp2Request } from './http2-compat.js';

const CLOSING = Symbol('a response queued on this connection is its last');

type Marked = Duplex & { [CLOSING]?: true };

/** The response to `req` is the connection's last: said in the response, and remembered on the socket. */
export function closeAfter(req: IncomingMessage, res: ServerResponse): void {
  if (isHttp2Request(req)) return;
  res.setHeader('connection', 'close');
  (req.socket as Marked)[CLOSING] = true;
}

/**
 * True for a request that came behind one whose response ends the connection: it is not to be
 * handled. The connection stops reading there: everything before it (earlier requests, their
 * bodies) is parsed already, and nothing the client sends after it is needed, so a client that
 * keeps pipelining while an earlier answer is pending holds no more than it has sent so far.
 */
export function droppedBehindLast(req: IncomingMessage): boolean {
  if (isHttp2Request(req) || (req.socket as Marked | null)?.[CLOSING] !== true) return false;
  req.socket.pause();
  return true;
}
