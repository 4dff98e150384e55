/** WAF: the first matching rule answers 403 naming the rule (docs/products.md, step 2). */
import { decodeQuery, percentDecode } from '../../products/edge-match.js';
import { compileLinearRegex, type LinearRegex } from '../../util/linear-regex.js';
import { CONTINUE, defineModule, respond, type RequestView } from '../module.js';

interface CompiledRule {
  id: string;
  read: (r: RequestView) => string | undefined;
  regex: LinearRegex;
}

function reader(field: string): (r: RequestView) => string | undefined {
  if (field === 'path') return (r) => percentDecode(r.path);
  if (field === 'query') return (r) => decodeQuery(r.query);
  if (field === 'user_agent') return (r) => r.header('user-agent');
  const name = field.slice('header:'.length);
  return (r) => r.header(name);
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
      const subject = rule.read(ctx.request);
      if (subject !== undefined && rule.regex.test(subject)) return respond(403, `waf:${rule.id}`, { error: 'blocked', rule: rule.id });
    }
    return CONTINUE;
  },
});
