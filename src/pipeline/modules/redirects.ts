/** Redirects: the first matching rule answers with its status and Location (docs/products.md, step 5). */

import { matchEdgePath } from '../../products/edge-match.js';
import type { Redirect } from '../../products/products-config.js';
import { CONTINUE, defineModule, respond } from '../module.js';

export const redirects = defineModule<readonly Redirect[]>({
  name: 'redirects',
  failure: 'open',
  configure: (p) => (p.redirects.length ? p.redirects : undefined),
  request(ctx, rules) {
    const { path, query } = ctx.request;
    for (const r of rules) {
      const m = matchEdgePath(r.from, path);
      if (!m) continue;
      let to = r.to.split('$1').join(m.rest);
      if (r.query === 'keep' && query !== '') to += (to.includes('?') ? '&' : '?') + query;
      return respond(r.status, `redirect:${r.id}`, undefined, { location: to });
    }
    return CONTINUE;
  },
});
