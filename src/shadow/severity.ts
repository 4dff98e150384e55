/**
 * How much a differing field matters, and which requests it differed on: a status difference
 * outranks a header, which outranks a body field; fields that differed on exactly the same
 * requests share one cause (a WAF rule missing shows as ten fields with one signature).
 */
import { createHash } from 'node:crypto';

export type Severity = 'status' | 'header' | 'body';

export function severityOf(field: string): Severity {
  if (field === 'status') return 'status';
  if (field.startsWith('header:')) return 'header';
  return 'body';
}

/** 32 bits of a request id's hash; XORed over the requests a field differed on. */
export function requestSignature(requestId: string): number {
  return createHash('sha1').update(requestId).digest().readUInt32BE(0);
}
