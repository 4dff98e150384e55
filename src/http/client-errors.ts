/**
 * Answers for requests that Node's HTTP parser refused before the gateway saw them (malformed
 * request line, invalid header, oversized headers, CL+TE, slow clients), and for HTTP/1.1
 * CONNECT, whose socket node:http hands over. Only the offending connection is closed; the
 * process and every other connection carry on. Nothing is counted here: what was answered goes
 * to the caller's log step.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ERRORS, type ErrorDef, rawErrorResponse } from '../errors.js';
import { connectError } from './admission.js';
import { bytesInOf } from './bytes-in.js';
import { droppedBehindLast } from './closing-connection.js';

/** "HTTP/3.0", "HTTP/9.9": a major version past 1 in the request line of what the parser refused. */
const LATER_MAJOR_VERSION = /^[^\r\n]* HTTP\/[2-9]\.\d\r?\n/;

export function classifyClientError(err: NodeJS.ErrnoException & { rawPacket?: Buffer }, maxUrlBytes: number): ErrorDef | undefined {
  switch (err.code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined; // the client is gone: nothing to answer
    case 'HPE_HEADER_OVERFLOW': {
      // When the overflow happened inside the request line, the target is what was too long.
      const raw = err.rawPacket;
      const firstLineEnd = raw ? raw.indexOf('\r\n') : -1;
      const lineTooLong = raw !== undefined && (firstLineEnd === -1 ? raw.length > maxUrlBytes : firstLineEnd > maxUrlBytes);
      return lineTooLong && raw !== undefined && /^[A-Z]+ /.test(raw.subarray(0, 16).toString('latin1'))
        ? ERRORS.CLIENT_URI_TOO_LONG
        : ERRORS.CLIENT_HEADERS_TOO_LARGE;
    }
    case 'HPE_INVALID_VERSION':
      // nginx answers 505 to a major version it does not speak, 400 to any other bad version.
      return err.rawPacket && LATER_MAJOR_VERSION.test(err.rawPacket.subarray(0, 8192).toString('latin1'))
        ? ERRORS.CLIENT_HTTP_VERSION
        : ERRORS.CLIENT_BAD_REQUEST;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADERS_TIMEOUT':
      return ERRORS.CLIENT_TIMEOUT;
    default:
      return ERRORS.CLIENT_BAD_REQUEST;
  }
}

/** A refused request that no handler saw: what its log step records. */
export interface RefusedRequest {
  /** CLIENT_ABORTED when the client went away and nothing was answered. */
  error: ErrorDef;
  /** Bytes the socket read since its previous exchange (bytes-in.ts). */
  bytesIn: number;
  /** Bytes of the answer written on the socket (0 when none was). */
  bytesOut: number;
  /** The request line, when the parser read one (CONNECT). */
  method?: string;
  path?: string;
  protocol?: string;
}

const CLIENT_ERROR = Symbol('client error during this response');

/**
 * The client error that cut a request short while its handler was running (a malformed chunk,
 * the request timeout), for that request's log step; undefined for nearly every request.
 */
export function clientErrorOf(res: ServerResponse): ErrorDef | undefined {
  return (res as ServerResponse & { [CLIENT_ERROR]?: ErrorDef })[CLIENT_ERROR];
}

/**
 * Answers a parser error on the bare socket, when nothing was sent on it yet, and closes it.
 * Returns what the log step should record; undefined when there is no exchange to record: a
 * request was in progress on this connection (its own log step records it, and finds the error
 * with clientErrorOf), or an idle keep-alive connection went away.
 */
export function answerClientError(err: Error, socket: Socket, maxUrlBytes: number): RefusedRequest | undefined {
  const e = classifyClientError(err as NodeJS.ErrnoException, maxUrlBytes);
  const inProgress = (socket as Socket & { _httpMessage?: (ServerResponse & { [CLIENT_ERROR]?: ErrorDef }) | null })._httpMessage;
  let bytesOut = 0;
  if (e && socket.writable && !inProgress?.headersSent) {
    // The parser stopped before a request existed: the method is read from the bytes it had.
    const raw = rawErrorResponse(e, isHeadRequest(err));
    socket.end(raw);
    bytesOut = Buffer.byteLength(raw);
  }
  socket.destroySoon?.();
  setTimeout(() => socket.destroy(), 1000).unref();
  if (inProgress) {
    if (e) inProgress[CLIENT_ERROR] = e;
    return undefined;
  }
  const bytesIn = bytesInOf(socket);
  if (!e && bytesIn === 0) return undefined;
  return { error: e ?? ERRORS.CLIENT_ABORTED, bytesIn, bytesOut };
}

/** Whether the bytes the parser refused begin a HEAD request. */
function isHeadRequest(err: Error): boolean {
  const packet = (err as { rawPacket?: Buffer }).rawPacket;
  return packet !== undefined && packet.length >= 5 && packet.toString('latin1', 0, 5) === 'HEAD ';
}

/**
 * Ends a socket once what was written to it is sent, and for sure after a second. What the
 * client still sends is read and dropped meanwhile: closing with unread bytes would reset the
 * connection, and the client could lose the answer.
 */
function endSocket(socket: Duplex, data?: string): void {
  socket.resume();
  socket.end(data);
  (socket as Socket).destroySoon?.();
  setTimeout(() => socket.destroy(), 1000).unref();
}

/**
 * HTTP/1.1 CONNECT (node:http's 'connect' event): 405 with Allow and the connection closed, for
 * the bytes after the request head belong to the tunnel the client asked for and are never read
 * as requests. nginx answers 400 to the usual authority-form target ("CONNECT host:443"), which
 * it does not parse, and 405 to any other; the method is what is refused here, whatever the
 * target. Returns what the log step records; undefined for a CONNECT pipelined behind a refused
 * request, which is dropped unanswered (closing-connection.ts).
 */
export function refuseConnect(req: IncomingMessage, socket: Duplex): RefusedRequest | undefined {
  socket.on('error', () => socket.destroy());
  if (droppedBehindLast(req)) {
    endSocket(socket);
    return undefined;
  }
  const e = connectError(req.url ?? '');
  const raw = rawErrorResponse(e);
  endSocket(socket, raw);
  return { error: e, bytesIn: bytesInOf(socket), bytesOut: Buffer.byteLength(raw), method: req.method, path: req.url, protocol: `HTTP/${req.httpVersion}` };
}
