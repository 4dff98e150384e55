/**
 * Shadow comparisons off the event loop (issue 14 item 3). Decompressing, parsing and diffing two
 * large bodies takes milliseconds of CPU; on the main thread that is milliseconds every request
 * in flight waits. Comparisons of bodies larger than INLINE_MAX_BYTES run in a worker-thread pool
 * (piscina); smaller ones run inline, where they cost less than the message passing (measured:
 * `npm run bench:compare-pool`, see docs/shadow.md).
 *
 * The bodies are transferred to the worker, not copied, when a body owns its whole ArrayBuffer
 * (Buffer.concat of a captured body above 4 KiB does; a smaller one lives in Node's shared pool
 * and is copied), and transferred back with the verdict: the responses passed in get their
 * bodies back before the promise resolves. The comparer is pure, so the verdicts are the same
 * inline and pooled (test/unit/compare-pool.test.ts); noise is applied by the caller on the main
 * thread, where the route's noise learner lives (withNoise in diff/compare.ts).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { type CapturedResponse, type Comparison, compareResponses } from '../diff/compare.js';
import type { ComparePolicy } from '../diff/compare-policy.js';
import type { CompareResult, CompareTask } from './compare-worker.js';

/**
 * Bodies (all sides together) up to this size are compared inline. Measured with
 * `npm run bench:compare-pool` (main-thread CPU, loaded 2-core machine): a pair of 1 KiB JSON
 * bodies costs ~100 µs inline against ~260 µs of main-thread time to post it to the worker and
 * take the verdict back; a pair of 4 KiB bodies ~180 µs inline against ~120 µs pooled, and from
 * there inline grows with the size (8 KiB: ~510, 64 KiB: ~2,350) while pooled stays a few hundred.
 */
export const INLINE_MAX_BYTES = 4 * 1024;

/** The verdict of the copy against the primary, and of the primary's second answer (noise learning). */
export interface PairVerdict {
  copy: Comparison;
  second?: Comparison;
  /** Where the comparison ran: on the event loop, or in a compare thread. */
  where: 'inline' | 'worker';
  /** How long it took (in a worker: from the hand-over to the verdict back). */
  seconds: number;
}

/** The worker's module: beside this one in dist/; under vitest (running src/*.ts), the built one. */
function workerFile(): string {
  const here = fileURLToPath(new URL('./compare-worker.js', import.meta.url));
  return existsSync(here) ? here : fileURLToPath(new URL('../../dist/shadow/compare-worker.js', import.meta.url));
}

/** Whether a buffer can be transferred without taking other data with it (Node's pool, a slice). */
function ownsItsMemory(b: Buffer): boolean {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer;
}

export class ComparePool {
  private readonly pool: Piscina | undefined;

  /** `threads` from `shadow.compare_threads`; 0 compares everything inline. */
  constructor(
    threads: number,
    private readonly inlineMaxBytes = INLINE_MAX_BYTES,
  ) {
    // A thread is started on the first large comparison and kept while comparisons come
    // (idleTimeout), so that a gateway that never shadows large bodies runs no extra thread.
    this.pool = threads > 0 ? new Piscina({ filename: workerFile(), minThreads: 0, maxThreads: threads, idleTimeout: 30_000 }) : undefined;
  }

  /** Compares `copy` (and `second`, when given) with `primary`, without noise (see withNoise). */
  async compare(primary: CapturedResponse, copy: CapturedResponse, policy: ComparePolicy, second?: CapturedResponse): Promise<PairVerdict> {
    const size = primary.body.length + copy.body.length + (second?.body.length ?? 0);
    const started = performance.now();
    if (!this.pool || size <= this.inlineMaxBytes || primary.truncated || copy.truncated) {
      const copyVerdict = compareResponses(primary, copy, policy);
      const secondVerdict = second && compareResponses(primary, second, policy);
      return { copy: copyVerdict, second: secondVerdict, where: 'inline', seconds: (performance.now() - started) / 1e3 };
    }
    const responses = second ? [primary, copy, second] : [primary, copy];
    const transferList = [...new Set(responses.filter((r) => ownsItsMemory(r.body)).map((r) => r.body.buffer as ArrayBuffer))];
    const task: CompareTask = { a: primary, b: copy, second, policy };
    let out: CompareResult;
    try {
      out = (await this.pool.run(task, { transferList })) as CompareResult;
    } catch (err) {
      // The worker died or refused the task: the bodies it held are gone with it.
      for (const r of responses) if (r.body.buffer.byteLength === 0) r.body = Buffer.alloc(0);
      throw err;
    }
    out.bodies.forEach((u, i) => {
      responses[i]!.body = Buffer.from(u.buffer, u.byteOffset, u.byteLength);
    });
    return { copy: out.copy, second: out.second, where: 'worker', seconds: (performance.now() - started) / 1e3 };
  }

  async close(): Promise<void> {
    await this.pool?.close({ force: true });
  }
}
