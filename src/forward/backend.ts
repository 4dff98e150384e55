/**
 * A backend as the request lifecycle sees it: HTTP hosts behind undici pools (http-backend.ts)
 * or the in-process pipeline (pipeline/in-process-backend.ts). Both stream the request and its
 * answer.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { BackendConfig } from '../config/gateway-config.js';
import type { ErrorDef } from '../errors.js';
import type { BackendState, HostStatus } from './host-set.js';
import type { RetryBudget } from './retry-budget.js';

export type { BackendState, HostStatus } from './host-set.js';

export interface Backend {
  readonly name: string;
  /** Its config; `url` is its first host. */
  readonly config: BackendConfig;
  /** At least one host may get traffic (always true in process). Read per request. */
  readonly up: boolean;
  /** up (every host available), degraded (some), down (none); with each host, for /readyz. */
  status(): { state: BackendState; hosts: HostStatus[] };
  /** Where a shadow copy or a WebSocket upgrade goes now: an available host, picked like a request. */
  target(): URL;
  /** Streams `req` to the backend and its answer to `res`; calls `done` exactly once. */
  forward(req: IncomingMessage, res: ServerResponse, opts: ForwardOptions, done: (outcome: ForwardOutcome) => void): void;
  /** SIGHUP: re-reads what it was built from, when that is a file (the in-process pipeline's products); logs the outcome. */
  reload?(): void;
  destroy(): Promise<void>;
}

/** Optional observer of the upstream response (the shadow tee uses it). It must not block. */
export interface ResponseTap {
  onStart(status: number, headers: Record<string, string | string[] | undefined>): void;
  onData(chunk: Buffer): void;
  onEnd(): void;
  onError(err: Error): void;
}

/** Why an attempt failed before any response byte reached the client (a fallback's `on`). */
export type FailureReason = 'refused' | 'reset' | 'timeout' | '5xx' | 'error';

export interface ForwardOutcome {
  status: number;
  bytesOut: number;
  /** Set when the upstream failed or the client went away. */
  error?: ErrorDef;
  cause?: Error;
  /**
   * Set when `onFailureBeforeResponse` took the failure: nothing was written to the client, and
   * the caller answers (a fallback). `status` is then the backend's 5xx, or 0.
   */
  handedOff?: FailureReason;
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
  /**
   * The request body to send instead of `req` itself: the shadow step's tee, the body guard, or
   * the whole body once read (request buffering), which can then be sent again (retries, fallback).
   */
  body?: Readable | Buffer;
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
  /** The route's retry budget: a retry on another host happens only when it grants one. */
  budget?: RetryBudget;
  /**
   * Asked when the backend failed (or answered 5xx) before any response byte reached the client,
   * once retries are exhausted. True: the forwarder writes nothing and calls `done` with
   * `handedOff`, so that the caller can send the request elsewhere. Absent or false: the usual
   * 502/504 local reply (or the backend's 5xx). HTTP backends only: the in-process pipeline
   * answers its own failures.
   */
  onFailureBeforeResponse?(reason: FailureReason): boolean;
}

/** The fallback reason of an upstream error. */
export function failureReasonOf(e: ErrorDef): FailureReason {
  switch (e.reason) {
    case 'refused':
      return 'refused';
    case 'reset':
      return 'reset';
    case 'connect_timeout':
    case 'response_timeout':
      return 'timeout';
    default:
      return 'error';
  }
}
