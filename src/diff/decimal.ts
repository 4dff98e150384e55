/**
 * Exact decimal arithmetic for the comparer (issue 12, "diff truth"): JSON numbers are decimals,
 * and a double cannot hold most of them (9007199254740993, 0.1), so equality and
 * `numeric_tolerance` are decided on the digits as written. Only what the comparer needs:
 * parse, a canonical key, and the tolerance test, each exact and with cost bounded by the number
 * of digits written, never by the size of an exponent (`1e999999999` costs what `1e9` does).
 */

/** ±digits·10^exp. `digits` has no leading or trailing zeros; zero is `digits: ''`. */
export interface Decimal {
  readonly neg: boolean;
  readonly digits: string;
  readonly exp: bigint;
}

const ZERO: Decimal = { neg: false, digits: '', exp: 0n };
const ONE: Decimal = { neg: false, digits: '1', exp: 0n };
// JSON's number grammar (leading zeros allowed: the tokenizer has already checked the token);
// it also reads what String(number) prints, such as `1e+21`.
const NUMBER = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** The decimal written as `text` (a JSON number token, or String() of a finite JS number). */
export function parseDecimal(text: string): Decimal {
  const m = NUMBER.exec(text);
  if (!m) throw new TypeError(`not a decimal number: ${text.slice(0, 40)}`);
  const frac = m[3] ?? '';
  const all = m[2]! + frac;
  let start = 0;
  while (start < all.length && all.charCodeAt(start) === 48) start++;
  let end = all.length;
  while (end > start && all.charCodeAt(end - 1) === 48) end--;
  if (start === end) return ZERO;
  return { neg: m[1] === '-', digits: all.slice(start, end), exp: BigInt(m[4] ?? 0) - BigInt(frac.length) + BigInt(all.length - end) };
}

/** Equal keys exactly when the decimals are equal (`1`, `1.0`, `1e0`, `10e-1` and `-0` vs `0`). */
export function decimalKey(d: Decimal): string {
  return d.digits ? `${d.neg ? '-' : ''}${d.digits}e${d.exp}` : '0';
}

/** Position of the leading digit: |d| is in [10^top, 10^(top+1)). */
function top(d: Decimal): bigint {
  return d.exp + BigInt(d.digits.length - 1);
}

function negate(d: Decimal): Decimal {
  return d.digits ? { ...d, neg: !d.neg } : d;
}

/**
 * The sign of a sum of a few decimals, exactly. Terms are taken from the largest down in
 * clusters whose digits overlap or touch; a cluster is summed exactly on its own lowest digit
 * position `low`. A nonzero cluster sum is at least 10^low, while every term left below the
 * cluster is under 10^(low-1), so (for fewer than ten terms) they cannot change its sign. Thus
 * no term is ever scaled across an exponent gap, however large.
 */
export function signOfSum(terms: readonly Decimal[]): -1 | 0 | 1 {
  const ts = terms.filter((t) => t.digits).sort((x, y) => (top(y) > top(x) ? 1 : top(y) < top(x) ? -1 : 0));
  let i = 0;
  while (i < ts.length) {
    let low = ts[i]!.exp;
    let j = i + 1;
    while (j < ts.length && top(ts[j]!) >= low - 1n) {
      if (ts[j]!.exp < low) low = ts[j]!.exp;
      j++;
    }
    let sum = 0n;
    for (let k = i; k < j; k++) {
      const v = BigInt(ts[k]!.digits) * 10n ** (ts[k]!.exp - low);
      sum += ts[k]!.neg ? -v : v;
    }
    if (sum !== 0n) return sum > 0n ? 1 : -1;
    i = j;
  }
  return 0;
}

function multiply(x: Decimal, y: Decimal): Decimal {
  if (!x.digits || !y.digits) return ZERO;
  return parseDecimal(`${x.neg !== y.neg ? '-' : ''}${BigInt(x.digits) * BigInt(y.digits)}e${x.exp + y.exp}`);
}

/**
 * `numeric_tolerance` on exact values: |a-b| <= t, or |a-b| <= t·max(|a|,|b|); that is,
 * |a-b| <= t·max(1, |a|, |b|), decided as the signs of a-b-r and b-a-r.
 */
export function withinTolerance(a: Decimal, b: Decimal, t: Decimal): boolean {
  if (decimalKey(a) === decimalKey(b)) return true;
  if (!t.digits) return false;
  let m = ONE;
  for (const x of [a, b]) {
    const abs = { ...x, neg: false };
    if (signOfSum([abs, negate(m)]) > 0) m = abs;
  }
  const r = negate(multiply(t, m));
  return signOfSum([a, negate(b), r]) <= 0 && signOfSum([b, negate(a), r]) <= 0;
}
