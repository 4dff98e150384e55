/**
 * A backend as the request lifecycle sees it: an HTTP upstream pool (forward/upstream.ts) or the
 * in-process pipeline (pipeline/in-process-backend.ts). Both stream the request and its answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BackendConfig } from '../config/gateway-config.js';
import type { ForwardOptions, ForwardOutcome } from './http-backend.js';

export interface Backend {
  readonly name: string;
  /** Its config; `url` is where shadow copies and WebSocket upgrades go. */
  readonly config: BackendConfig;
  /** Streams `req` to the backend and its answer to `res`; calls `done` exactly once. */
  forward(req: IncomingMessage, res: ServerResponse, opts: ForwardOptions, done: (outcome: ForwardOutcome) => void): void;
  destroy(): Promise<void>;
}
