/**
 * Keeps the request body, up to max_body, while it streams to the primary backend, so that the
 * shadow copy can be sent with the same body once it has arrived.
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';

export interface BodyTee {
  /** What the primary backend reads instead of the request. */
  primary: Readable;
  /** The whole body, or undefined when it was over `maxBytes` or did not arrive whole. */
  body: Promise<Buffer | undefined>;
}

export function teeBody(req: IncomingMessage, maxBytes: number): BodyTee {
  const primary = new PassThrough();
  let chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  const body = new Promise<Buffer | undefined>((resolve) => {
    req.on('data', (c: Buffer) => {
      if (!over) {
        size += c.length;
        if (size > maxBytes) {
          over = true;
          chunks = [];
        } else chunks.push(c);
      }
      if (!primary.write(c)) req.pause();
    });
    primary.on('drain', () => req.resume());
    req.on('end', () => {
      primary.end();
      resolve(over ? undefined : Buffer.concat(chunks));
      chunks = [];
    });
    req.on('error', (err) => {
      primary.destroy(err);
      resolve(undefined);
    });
    req.on('close', () => {
      if (!req.complete) {
        primary.destroy(new Error('client went away'));
        resolve(undefined);
      }
    });
  });
  return { primary, body };
}
