/**
 * Answers for requests that Node's HTTP parser refused before the gateway saw them (malformed
 * request line, invalid header, oversized headers, CL+TE, slow clients). Only the offending
 * connection is closed; the process and every other connection carry on. Nothing is counted
 * here: what was answered goes to the caller's log step.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ERRORS, rawErrorResponse, type ErrorDef } from '../errors.js';
import { bytesInOf } from './bytes-in.js';

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
    const raw = rawErrorResponse(e);
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
