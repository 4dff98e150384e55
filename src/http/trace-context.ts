/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the gateway passes a request's trace
 * on to the serving backend and to the shadow copy, each as a span of its own under the client's
 * parent (so the two calls are siblings in the trace), and starts a trace when the client sent
 * none or an invalid one. It records no spans itself, so it needs no tracing SDK; the trace id
 * goes into the access log and the diff samples, where a person finds both answers by it.
 */
import { randomFillSync } from 'node:crypto';

export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

export interface TraceContext {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** The client's span (16 hex digits); undefined when the gateway started the trace. */
  parentId: string | undefined;
  /** 2 hex digits; the gateway starts traces sampled ("01") so that backends record them. */
  flags: string;
  /** The client's tracestate, kept only with a valid traceparent (§3.3.1.1). */
  state: string | undefined;
}

const HEX = /^[0-9a-f]+$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** The client's trace, or undefined when traceparent is missing, repeated or invalid. */
export function parseTraceContext(traceparent: string | string[] | undefined, tracestate: string | string[] | undefined): TraceContext | undefined {
  if (typeof traceparent !== 'string') return undefined;
  const v = traceparent.trim();
  // Version 00 is exactly 55 characters; a later version may append fields after a dash (§3.2.4).
  if (v.length < 55 || (v.length > 55 && (v.startsWith('00') || v[55] !== '-'))) return undefined;
  const version = v.slice(0, 2);
  const traceId = v.slice(3, 35);
  const parentId = v.slice(36, 52);
  const flags = v.slice(53, 55);
  if (v[2] !== '-' || v[35] !== '-' || v[52] !== '-') return undefined;
  if (!HEX.test(version) || version === 'ff' || !HEX.test(traceId) || !HEX.test(parentId) || !HEX.test(flags)) return undefined;
  if (traceId === ZERO_TRACE || parentId === ZERO_SPAN) return undefined;
  const state = typeof tracestate === 'string' ? tracestate : Array.isArray(tracestate) ? tracestate.join(',') : undefined;
  return { traceId, parentId, flags, state };
}

/** A new trace, for requests that came without one. */
export function startTrace(): TraceContext {
  return { traceId: randomHex(16), parentId: undefined, flags: '01', state: undefined };
}

/** The traceparent of a new span of `trace` (the primary call, or the shadow copy). */
export function childTraceparent(trace: TraceContext): string {
  return `00-${trace.traceId}-${randomHex(8)}-${trace.flags}`;
}

// Ids come from a pooled buffer of random bytes: one randomFillSync per 256 spans instead of one
// call per id (crypto calls cost about a microsecond each on the request path).
const pool = Buffer.alloc(4096);
let offset = pool.length;

function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  // An all-zero id is invalid; with 64 random bits this is for completeness, not for probability.
  return /^0+$/.test(hex) ? randomHex(bytes) : hex;
}
