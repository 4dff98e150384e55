/**
 * Slow request bodies (issue 11, "slow clients"): the idle timeout between two body chunks
 * (limits.body_timeout, nginx's client_body_timeout), and request buffering (nginx's
 * proxy_request_buffering), which reads a body whole before a connection to the backend is
 * taken, so that a client trickling its body never holds an upstream connection while it does.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { ERRORS, errorOf } from '../errors.js';

/** The error a guarded body fails with when the client stalls; classified as CLIENT_TIMEOUT. */
export function bodyTimeoutError(): Error {
  return errorOf(ERRORS.CLIENT_TIMEOUT);
}

function abortedError(): Error {
  return Object.assign(new Error('client went away'), { code: 'UND_ERR_ABORTED' });
}

/** True when the request announces a body. */
export function hasRequestBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * `source` (the request, or the shadow tee in front of it) piped through a stream that fails
 * with bodyTimeoutError() when no chunk arrives for `idleMs`. The answer to that failure closes
 * the connection: the rest of the body will not be read.
 */
export function guardBody(source: Readable, res: ServerResponse, idleMs: number): Readable {
  const out = new PassThrough();
  let ended = false;
  const timer = setTimeout(() => {
    if (!res.headersSent) res.setHeader('connection', 'close');
    source.unpipe(out);
    out.destroy(bodyTimeoutError());
  }, idleMs);
  timer.unref();
  source.on('data', () => timer.refresh());
  source.once('end', () => {
    ended = true;
    clearTimeout(timer);
  });
  source.once('close', () => {
    clearTimeout(timer);
    if (!ended && !out.destroyed) out.destroy(abortedError());
  });
  source.once('error', (err) => out.destroy(err));
  out.once('close', () => clearTimeout(timer));
  source.pipe(out);
  return out;
}

/**
 * Reads `body` whole, up to `maxBytes`, and resolves it as one Buffer (which can be sent more
 * than once: a retry on another host, a route's fallback); a larger body resolves as soon as
 * `maxBytes` have arrived, as a stream of what was read followed by the rest. Rejects with the
 * body's error (a timeout, the client gone) if it fails before that.
 */
export function bufferBody(body: Readable, maxBytes: number): Promise<Readable | Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
    };
    const replay = (rest: Readable) => {
      const out = new PassThrough();
      for (const c of chunks) out.write(c);
      rest.once('error', (err) => out.destroy(err));
      rest.pipe(out);
      return out;
    };
    function onData(c: Buffer) {
      chunks.push(c);
      size += c.length;
      if (size > maxBytes) {
        cleanup();
        body.pause();
        resolve(replay(body));
      }
    }
    function onEnd() {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    }
    function onError(err: Error) {
      cleanup();
      reject(err);
    }
    function onClose() {
      cleanup();
      reject(abortedError());
    }
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    body.once('close', onClose);
  });
}
