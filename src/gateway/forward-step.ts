/**
 * Step 4 of the lifecycle, forward, with its guards against slow clients (issue 11): the
 * request body under limits.body_timeout, read whole first when the backend asks for request
 * buffering, and the response under limits.send_timeout (in the backend's forwarder).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERRORS, classifyUpstreamError, errorBody } from '../errors.js';
import type { Backend, ForwardOptions, ForwardOutcome } from '../forward/backend.js';
import { bufferBody, guardBody, hasRequestBody } from '../http/body-guard.js';
import type { GatewayRuntime } from './contracts.js';

export function forwardStep(rt: GatewayRuntime, backend: Backend, req: IncomingMessage, res: ServerResponse, opts: ForwardOptions, done: (o: ForwardOutcome) => void): void {
  const limits = rt.config.limits;
  const withTimeouts: ForwardOptions = { ...opts, sendTimeoutMs: limits.sendTimeoutMs };
  if (!hasRequestBody(req)) return backend.forward(req, res, withTimeouts, done);
  const body = guardBody(opts.body ?? req, res, limits.bodyTimeoutMs);
  const buffering = backend.config.requestBuffering;
  if (!buffering) return backend.forward(req, res, { ...withTimeouts, body }, done);
  bufferBody(body, buffering).then(
    (whole) => backend.forward(req, res, { ...withTimeouts, body: whole }, done),
    (err: Error) => {
      // The body failed before a connection was taken: answer here, as the forwarder would.
      const e = classifyUpstreamError(err);
      opts.tap?.onError(err);
      if (e === ERRORS.CLIENT_TIMEOUT && !res.headersSent && !res.destroyed) {
        const text = errorBody(e, { backend: backend.name });
        res.writeHead(e.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), connection: 'close', ...opts.responseHeaders });
        res.end(text);
        return done({ status: e.status, bytesOut: 0, error: e, cause: err });
      }
      res.destroy();
      done({ status: 0, bytesOut: 0, error: ERRORS.CLIENT_ABORTED, cause: err });
    },
  );
}
