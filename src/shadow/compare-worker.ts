/**
 * The worker side of the compare pool (compare-pool.ts): runs the pure comparer on bodies that
 * were transferred in, and transfers them back with the verdicts, so that the judge still has
 * them for its samples. Loaded by piscina in a worker thread, never imported by the gateway.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { compareResponses, type CapturedResponse, type Comparison } from '../diff/compare.js';
import type { ComparePolicy } from '../diff/compare-policy.js';

/** A response as it crosses the thread boundary: the body arrives as a plain Uint8Array. */
export type WireResponse = Omit<CapturedResponse, 'body'> & { body: Uint8Array };

export interface CompareTask {
  a: WireResponse;
  b: WireResponse;
  /** A second answer of the serving backend, to learn noise from (compared with `a`). */
  second?: WireResponse;
  policy: ComparePolicy;
}

export interface CompareResult {
  copy: Comparison;
  second?: Comparison;
  /** The bodies of a, b and second, given back. */
  bodies: Uint8Array[];
}

const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
const captured = (r: WireResponse): CapturedResponse => ({ ...r, body: asBuffer(r.body) });

export default function compareTask(t: CompareTask): unknown {
  const a = captured(t.a);
  const result: CompareResult = {
    copy: compareResponses(a, captured(t.b), t.policy),
    second: t.second && compareResponses(a, captured(t.second), t.policy),
    bodies: [t.a.body, t.b.body, ...(t.second ? [t.second.body] : [])],
  };
  return move({
    get [transferableSymbol]() {
      // Each distinct buffer once (a body that was copied in, not transferred, has its own).
      return [...new Set(result.bodies.map((b) => b.buffer))];
    },
    get [valueSymbol]() {
      return result;
    },
  } as unknown as ArrayBuffer);
}
