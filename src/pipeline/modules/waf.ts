/** WAF: the first matching rule answers 403 naming the rule (docs/products.md, step 2). */
import { decodeQuery, percentDecode } from '../../products/edge-match.js';
import { compileLinearRegex, type LinearRegex } from '../../util/linear-regex.js';
import { CONTINUE, defineModule, type RequestView, respond } from '../module.js';

interface CompiledRule {
  id: string;
  /** Does the rule's pattern match its subject: one, or any line of a repeated header (each is checked)? */
  matches: (r: RequestView) => boolean;
}

/** Built once per rule: a request checks its subject without an array or a closure of its own. */
function matcher(field: string, regex: LinearRegex): CompiledRule['matches'] {
  if (field === 'path') return (r) => regex.test(percentDecode(r.path));
  if (field === 'query') return (r) => regex.test(decodeQuery(r.query));
  const name = field === 'user_agent' ? 'user-agent' : field.slice('header:'.length);
  return (r) => {
    const lines = r.headerValues(name);
    if (lines === undefined) return false;
    for (const line of lines) if (regex.test(line)) return true;
    return false;
  };
}

/** Validation (products-config.ts) already compiled the pattern: a failure here is a bug. */
function linear(pattern: string, ignoreCase: boolean): LinearRegex {
  const re = compileLinearRegex(pattern, { ignoreCase });
  if (typeof re === 'string') throw new Error(re);
  return re;
}

export const waf = defineModule<CompiledRule[]>({
  name: 'waf',
  failure: 'closed',
  configure: (p) => (p.waf.length ? p.waf.map((w) => ({ id: w.id, matches: matcher(w.field, linear(w.pattern, w.ignoreCase)) })) : undefined),
  request(ctx, rules) {
    for (const rule of rules) if (rule.matches(ctx.request)) return respond(403, `waf:${rule.id}`, { error: 'blocked', rule: rule.id });
    return CONTINUE;
  },
});
