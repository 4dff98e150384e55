/**
 * What differs between two text bodies, by lines, for the comparer. The report shows the first
 * differing lines of each side and how many there are, not an edit script, so this is linear in
 * the input: the common head and tail are cut, and the lines left in the middle of each side that
 * the other side's middle lacks (counted as a multiset) are the changes. A Myers diff here cost
 * ~85 ms and quadratic memory for 1,000 changed lines (issue 14; scripts/bench-diff.ts).
 * `switchyard rules diff`, where an edit script is wanted, uses the `diff` package instead.
 */

export interface LineChanges {
  /** The first lines of `a` missing from `b`, in order (at most `keep`). */
  removed: string[];
  /** The first lines of `b` missing from `a`, in order (at most `keep`). */
  added: string[];
  removedCount: number;
  addedCount: number;
}

/**
 * The changed lines of `a` against `b`, or undefined when the texts are equal. When the two
 * sides hold the same lines in another order, the differing middles are given as they are, so
 * a difference is never reported as none.
 */
export function lineChanges(a: string, b: string, keep = 10): LineChanges | undefined {
  if (a === b) return undefined;
  const la = a.split('\n');
  const lb = b.split('\n');
  let head = 0;
  while (head < la.length && head < lb.length && la[head] === lb[head]) head++;
  let tail = 0;
  while (tail < la.length - head && tail < lb.length - head && la[la.length - 1 - tail] === lb[lb.length - 1 - tail]) tail++;
  const ma = la.slice(head, la.length - tail);
  const mb = lb.slice(head, lb.length - tail);

  const unmatched = new Map<string, number>();
  for (const line of mb) unmatched.set(line, (unmatched.get(line) ?? 0) + 1);
  const removed: string[] = [];
  let removedCount = 0;
  for (const line of ma) {
    const n = unmatched.get(line);
    if (n) unmatched.set(line, n - 1);
    else if (removedCount++ < keep) removed.push(line);
  }
  const added: string[] = [];
  let addedCount = 0;
  for (const line of mb) {
    const n = unmatched.get(line);
    if (!n) continue; // matched by a line of `a`
    unmatched.set(line, n - 1);
    if (addedCount++ < keep) added.push(line);
  }
  if (removedCount === 0 && addedCount === 0) {
    // Same lines, another order: the moved block is what differs.
    return { removed: ma.slice(0, keep), added: mb.slice(0, keep), removedCount: ma.length, addedCount: mb.length };
  }
  return { removed, added, removedCount, addedCount };
}
