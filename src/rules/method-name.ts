/** An HTTP method in the rule language (`match.methods`, `fallback.methods`): upper-cased, known. */
import { type Check, refine, reject, string } from '../config/schema.js';

/** A method name check accepting `allowed` (written in any case, stored upper-case). */
export function methodName(allowed: readonly string[]): Check<string> {
  return refine(string(), (v, node, ctx, path) => {
    const up = v.toUpperCase();
    return allowed.includes(up) ? up : reject(ctx, node, path, `unknown method ${JSON.stringify(v)}`);
  });
}
