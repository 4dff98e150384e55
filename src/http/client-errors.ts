/**
 * Answers for requests that Node's HTTP parser refused before the gateway saw them (malformed
 * request line, invalid header, oversized headers, CL+TE, slow clients). Only the offending
 * connection is closed; the process and every other connection carry on.
 */
import type { Socket } from 'node:net';
import { ERRORS, rawErrorResponse, type ErrorDef } from '../errors.js';
import type { Metrics } from '../metrics/catalogue.js';

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

export function answerClientError(err: Error, socket: Socket, maxUrlBytes: number, metrics?: Metrics): void {
  const e = classifyClientError(err as NodeJS.ErrnoException, maxUrlBytes);
  metrics?.clientErrors.inc({ reason: e?.reason ?? ERRORS.CLIENT_ABORTED.reason });
  if (e && socket.writable && !(socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
    socket.end(rawErrorResponse(e));
  }
  socket.destroySoon?.();
  setTimeout(() => socket.destroy(), 1000).unref();
}
