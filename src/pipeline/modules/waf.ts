/** WAF: the first matching rule answers 403 naming the rule (docs/products.md, step 2). */
import { decodeQuery, percentDecode } from '../../products/edge-match.js';
import { compileLinearRegex, type LinearRegex } from '../../util/linear-regex.js';
import { CONTINUE, defineModule, respond, type RequestView } from '../module.js';

interface CompiledRule {
  id: string;
  /** The subjects: one, or one per line of a repeated header (each is checked). */
  read: (r: RequestView) => readonly string[] | undefined;
  regex: LinearRegex;
}

function reader(field: string): CompiledRule['read'] {
  if (field === 'path') return (r) => [percentDecode(r.path)];
  if (field === 'query') return (r) => [decodeQuery(r.query)];
  const name = field === 'user_agent' ? 'user-agent' : field.slice('header:'.length);
  return (r) => r.headerValues(name);
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
  configure: (p) => (p.waf.length ? p.waf.map((w) => ({ id: w.id, read: reader(w.field), regex: linear(w.pattern, w.ignoreCase) })) : undefined),
  request(ctx, rules) {
    for (const rule of rules) {
      const subjects = rule.read(ctx.request);
      if (subjects?.some((s) => rule.regex.test(s))) return respond(403, `waf:${rule.id}`, { error: 'blocked', rule: rule.id });
    }
    return CONTINUE;
  },
});
