/**
 * Regular expressions that match in time linear in the input: rule `~regex` patterns and WAF
 * patterns run on the event loop with input a client chooses, so a backtracking engine lets one
 * request freeze the process (issue 11: `^(a+)+$` against 27 characters took 3.8 s in V8, and
 * the time doubles per extra character). re2js is a pure-JavaScript port of RE2: an automaton,
 * never backtracking, no native addon.
 *
 * The price: RE2's syntax has no lookaround and no backreferences (they are what needs
 * backtracking); such a pattern is refused at validation with RE2's reason. A benign match costs
 * about 10 µs instead of V8's 0.1 µs (measured with .tmp/measure.mjs, see the commit).
 */
import { RE2JS } from 're2js';

export interface LinearRegex {
  readonly source: string;
  test(subject: string): boolean;
}

/** Compiles `source` with RE2 semantics, or returns why it cannot be matched in linear time. */
export function compileLinearRegex(source: string, opts: { ignoreCase?: boolean } = {}): LinearRegex | string {
  let re: RE2JS;
  try {
    re = RE2JS.compile(source, opts.ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (err) {
    return `invalid regular expression ${JSON.stringify(source)} (linear-time RE2 syntax: no lookaround, no backreferences): ${(err as Error).message}`;
  }
  return { source, test: (subject) => re.test(subject) };
}
