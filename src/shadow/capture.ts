/**
 * Captures a response, up to a byte limit, as a CapturedResponse: the tee on the primary
 * response (a ResponseTap, fed while the response streams to the client) and the reader of the
 * shadow's own response share this one accumulator.
 */
import type { CapturedResponse } from '../diff/compare.js';
import type { ResponseTap } from '../forward/backend.js';
import type { BudgetShare } from './buffer-budget.js';

export class ResponseCapture implements ResponseTap {
  private status = 0;
  private headers: Record<string, string | string[] | undefined> = {};
  private chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;
  /** True when the global shadow buffer (shadow.max_buffered_bytes) had no room for this body. */
  overBudget = false;
  private settle!: (r: CapturedResponse | Error) => void;
  readonly done: Promise<CapturedResponse | Error> = new Promise((resolve) => (this.settle = resolve));

  constructor(
    private readonly maxBytes: number,
    private readonly share?: BudgetShare,
  ) {}

  onStart(status: number, headers: Record<string, string | string[] | undefined>): void {
    this.status = status;
    this.headers = headers;
  }

  onData(chunk: Buffer): void {
    if (this.truncated) return;
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      // Past max_body the comparison will be skipped: let go of what was kept.
      this.truncated = true;
      this.chunks = [];
      this.share?.releaseAll();
    } else if (this.share && !this.share.take(chunk.length)) {
      this.truncated = true;
      this.overBudget = true;
      this.chunks = [];
      this.share?.releaseAll();
    } else this.chunks.push(chunk);
  }

  onEnd(): void {
    this.settle({ status: this.status, headers: this.headers, body: Buffer.concat(this.chunks), truncated: this.truncated });
    this.chunks = [];
  }

  onError(err: Error): void {
    this.chunks = [];
    this.share?.releaseAll();
    this.settle(err);
  }
}
