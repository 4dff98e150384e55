/** Redirects: the first matching rule answers with its status and Location (docs/products.md, step 5). */

import { compileEdgePath, type EdgePath } from '../../products/edge-match.js';
import type { Redirect } from '../../products/products-config.js';
import { CONTINUE, defineModule, respond } from '../module.js';

/** A rule with its `from` compiled once. */
interface Rule extends Redirect {
  fromPath: EdgePath;
}

export const redirects = defineModule<readonly Rule[]>({
  name: 'redirects',
  failure: 'open',
  configure: (p) => (p.redirects.length ? p.redirects.map((r) => ({ ...r, fromPath: compileEdgePath(r.from) })) : undefined),
  request(ctx, rules) {
    const { path, query } = ctx.request;
    for (const r of rules) {
      const rest = r.fromPath.rest(path);
      if (rest === undefined) continue;
      let to = r.to.split('$1').join(rest);
      if (r.query === 'keep' && query !== '') to += (to.includes('?') ? '&' : '?') + query;
      return respond(r.status, `redirect:${r.id}`, undefined, { location: to });
    }
    return CONTINUE;
  },
});
