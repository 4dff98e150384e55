/**
 * Keeps the request body, up to max_body, while it streams to the primary backend, so that the
 * shadow copy can be sent with the same body once it has arrived.
 *
 * The body promise always settles: when the body ends, when the client goes away, and when the
 * shadow step abandons it because the primary ended first (504, reset while the body was still
 * arriving). Otherwise the copy would wait for a body that never comes and keep its concurrency
 * slot for ever (issue 11: "shadowing can stop for good").
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type { BudgetShare } from './buffer-budget.js';

/** Why the tee has no body for the copy. */
export type TeeMiss = 'body_too_large' | 'buffer_full' | 'incomplete' | 'primary_error';

export interface BodyTee {
  /** What the primary backend reads instead of the request. */
  primary: Readable;
  /** The whole body, or the reason there is none. */
  body: Promise<Buffer | TeeMiss>;
  /** Stops keeping the body and settles `body` with `reason` if it has not settled yet. */
  abandon(reason: TeeMiss): void;
}

export function teeBody(req: IncomingMessage, maxBytes: number, share?: BudgetShare): BodyTee {
  const primary = new PassThrough();
  let chunks: Buffer[] = [];
  let size = 0;
  let miss: TeeMiss | undefined;
  let settle!: (b: Buffer | TeeMiss) => void;
  let settled = false;
  const body = new Promise<Buffer | TeeMiss>((resolve) => (settle = resolve));
  const finish = (result: Buffer | TeeMiss) => {
    if (settled) return;
    settled = true;
    chunks = [];
    if (typeof result === 'string') share?.releaseAll();
    settle(result);
  };
  const drop = (reason: TeeMiss) => {
    if (miss) return;
    miss = reason;
    chunks = [];
    share?.releaseAll();
  };

  req.on('data', (c: Buffer) => {
    if (!miss && !settled) {
      size += c.length;
      if (size > maxBytes) drop('body_too_large');
      else if (share && !share.take(c.length)) drop('buffer_full');
      else chunks.push(c);
    }
    // Once the primary is gone, the rest of the body is drained, not written.
    if (primary.destroyed) return;
    if (!primary.write(c)) req.pause();
  });
  primary.on('drain', () => req.resume());
  primary.on('close', () => {
    if (!req.complete) req.resume();
  });
  req.on('end', () => {
    primary.end();
    finish(miss ?? Buffer.concat(chunks));
  });
  req.on('error', (err) => {
    primary.destroy(err);
    finish('incomplete');
  });
  req.on('close', () => {
    if (!req.complete) {
      primary.destroy(new Error('client went away'));
      finish('incomplete');
    }
  });
  return {
    primary,
    body,
    abandon: (reason) => {
      drop(reason);
      finish(reason);
    },
  };
}
