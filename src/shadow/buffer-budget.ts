/**
 * The global bound on bytes held for shadowing (`shadow.max_buffered_bytes`): request bodies kept
 * by the tee for the copy, and the captured primary and copy responses waiting to be compared.
 * Each copy has its own bound (the route's max_body); this one caps their sum, so that many large
 * requests to a hung shadow target cannot grow the gateway without limit (issue 11: 150 large
 * POSTs took it from 120 MB to 1.5 GB). Past it, copies are skipped with reason `buffer_full`.
 */
export class BufferBudget {
  private used = 0;

  /** `observe` hears the new total after every change (the buffered-bytes gauge). */
  constructor(
    readonly maxBytes: number,
    private readonly observe: (bytes: number) => void = () => undefined,
  ) {}

  get bytes(): number {
    return this.used;
  }

  /** Whether `n` more bytes could be held now. */
  fits(n: number): boolean {
    return this.used + n <= this.maxBytes;
  }

  /** Takes `n` bytes if they fit; false (and nothing taken) otherwise. */
  take(n: number): boolean {
    if (!this.fits(n)) return false;
    this.used += n;
    this.observe(this.used);
    return true;
  }

  release(n: number): void {
    if (n === 0) return;
    this.used = Math.max(0, this.used - n);
    this.observe(this.used);
  }
}

/** One holder's share of the budget, released whole at once (idempotent). */
export class BudgetShare {
  private held = 0;

  constructor(private readonly budget: BufferBudget | undefined) {}

  take(n: number): boolean {
    if (!this.budget) return true;
    if (!this.budget.take(n)) return false;
    this.held += n;
    return true;
  }

  releaseAll(): void {
    this.budget?.release(this.held);
    this.held = 0;
  }
}
