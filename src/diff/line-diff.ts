/**
 * Line diff (Myers' O(ND) algorithm), used by `switchyard rules diff` and by the comparer for
 * text bodies. `maxEdits` bounds the work: past it the diff is reported as "too different".
 */

export type LineEdit = { op: ' ' | '-' | '+'; line: string };

/** The edit script turning `a` into `b`, or undefined when more than `maxEdits` edits are needed. */
export function diffLines(a: readonly string[], b: readonly string[], maxEdits = 10_000): LineEdit[] | undefined {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  if (!found) return undefined;
  // Walk back through the saved frontiers to recover the script.
  const edits: LineEdit[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && vd[offset + k - 1]! < vd[offset + k + 1]!) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : vd[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      edits.push({ op: ' ', line: a[x]! });
    }
    if (d > 0) {
      if (x === prevX) edits.push({ op: '+', line: b[--y]! });
      else edits.push({ op: '-', line: a[--x]! });
    }
  }
  return edits.reverse();
}

/** A unified-style rendering with `context` unchanged lines around each change. */
export function formatLineDiff(edits: readonly LineEdit[], labelA: string, labelB: string, context = 3): string {
  const out = [`--- ${labelA}`, `+++ ${labelB}`];
  const keep = new Uint8Array(edits.length);
  edits.forEach((e, i) => {
    if (e.op === ' ') return;
    for (let j = Math.max(0, i - context); j <= Math.min(edits.length - 1, i + context); j++) keep[j] = 1;
  });
  let skipped = false;
  edits.forEach((e, i) => {
    if (!keep[i]) {
      skipped = true;
      return;
    }
    if (skipped) out.push('@@');
    skipped = false;
    out.push(`${e.op}${e.line}`);
  });
  return out.join('\n') + '\n';
}
