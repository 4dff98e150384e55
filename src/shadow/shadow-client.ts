/**
 * Sends one shadow copy through a pool reserved for shadow traffic (so a stuck shadow target
 * can never take connections from primary traffic) and feeds its response to a capture.
 */
import type { Dispatcher } from 'undici';
import { classifyUpstreamError, ERRORS, errorOf } from '../errors.js';
import type { UpstreamClient } from '../forward/upstream-client.js';
import type { ResponseCapture } from './capture.js';

export const SHADOW_TIMEOUT = ERRORS.SHADOW_TIMEOUT.code;

export interface CopyRequest {
  path: string;
  method: string;
  headers: Record<string, string | string[]>;
  body: Buffer | null;
}

export function sendCopy(pool: UpstreamClient, req: CopyRequest, capture: ResponseCapture, timeoutMs: number): void {
  let controller: Dispatcher.DispatchController | undefined;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller?.abort(errorOf(ERRORS.SHADOW_TIMEOUT, 'shadow timed out'));
  }, timeoutMs);
  timer.unref();
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(c) {
      controller = c;
      if (timedOut) c.abort(errorOf(ERRORS.SHADOW_TIMEOUT, 'shadow timed out'));
    },
    onResponseStart(_c, status, headers) {
      capture.onStart(status, headers);
    },
    onResponseData(_c, chunk) {
      capture.onData(chunk);
    },
    onResponseEnd() {
      clearTimeout(timer);
      capture.onEnd();
    },
    onResponseError(_c, err) {
      clearTimeout(timer);
      capture.onError(timedOut ? errorOf(ERRORS.SHADOW_TIMEOUT, 'shadow timed out') : err);
    },
  };
  try {
    pool.dispatch({ path: req.path, method: req.method, headers: req.headers, body: req.body }, handler);
  } catch (err) {
    clearTimeout(timer);
    capture.onError(err as Error);
  }
}

export function isTimeout(err: Error): boolean {
  const code = (err as { code?: string }).code;
  if (code === SHADOW_TIMEOUT) return true;
  const e = classifyUpstreamError(err);
  return e === ERRORS.UPSTREAM_CONNECT_TIMEOUT || e === ERRORS.UPSTREAM_RESPONSE_TIMEOUT;
}
