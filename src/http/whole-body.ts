/**
 * Reads a request body whole, for the places that must be able to send it twice (a fallback, a
 * retry on another host). Only for bodies whose length was declared and is bounded by the
 * caller: Node's parser then guarantees the size. Resolves undefined when the body did not
 * arrive whole (the client went away, or sent less than it declared).
 */
import type { Readable } from 'node:stream';

export function readWholeBody(body: Readable, declaredLength: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (c: Buffer) => {
      size += c.length;
      chunks.push(c);
    });
    body.once('end', () => resolve(size === declaredLength ? Buffer.concat(chunks, size) : undefined));
    body.once('error', () => resolve(undefined));
    body.once('close', () => resolve(undefined));
  });
}
