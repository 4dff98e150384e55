/**
 * A backend as the request lifecycle sees it: an HTTP upstream pool (forward/upstream.ts) or the
 * in-process pipeline (pipeline/in-process-backend.ts). Both stream the request and its answer.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { BackendConfig } from '../config/gateway-config.js';
import type { ErrorDef } from '../errors.js';

export interface Backend {
  readonly name: string;
  /** Its config; `url` is where shadow copies and WebSocket upgrades go. */
  readonly config: BackendConfig;
  /** Streams `req` to the backend and its answer to `res`; calls `done` exactly once. */
  forward(req: IncomingMessage, res: ServerResponse, opts: ForwardOptions, done: (outcome: ForwardOutcome) => void): void;
  destroy(): Promise<void>;
}

/** Optional observer of the upstream response (the shadow tee uses it). It must not block. */
export interface ResponseTap {
  onStart(status: number, headers: Record<string, string | string[] | undefined>): void;
  onData(chunk: Buffer): void;
  onEnd(): void;
  onError(err: Error): void;
}

export interface ForwardOutcome {
  status: number;
  bytesOut: number;
  /** Set when the upstream failed or the client went away. */
  error?: ErrorDef;
  cause?: Error;
  /**
   * Set when the backend answered locally instead of asking its origin, with its reason
   * (`waf:1001`, `rate_limited:api`, …): the in-process pipeline reports it for the access log.
   */
  reply?: string;
}

export interface ForwardOptions {
  headers: Record<string, string | string[]>;
  /** Extra response headers (debug headers, request id). */
  responseHeaders?: Record<string, string>;
  tap?: ResponseTap;
  /** The request body to send instead of `req` itself (the shadow step's tee, the body guard). */
  body?: Readable;
  /**
   * Response write idle timeout to the client (limits.send_timeout): when the client has not
   * taken a chunk for this long, the upstream request is aborted and the client cut off.
   */
  sendTimeoutMs?: number;
  /**
   * Called with the status and the headers about to be written (the origin's, or those of a
   * local 502/504), which it may change in place; `origin` is what the upstream sent, or
   * undefined for a local error reply. The pipeline runs its response phases here.
   */
  beforeResponse?(status: number, headers: OutgoingHttpHeaders, origin: Record<string, string | string[] | undefined> | undefined): void;
}
