/** Refuses methods the edge does not serve: 405 with Allow (docs/products.md, step 1). */
import { EDGE_METHODS } from '../../products/products-config.js';
import { CONTINUE, defineModule, respond } from '../module.js';

const ALLOWED = new Set<string>(EDGE_METHODS);
const ALLOW = EDGE_METHODS.join(', ');

export const methodGuard = defineModule({
  name: 'method-guard',
  failure: 'closed',
  configure: () => true,
  request: (ctx) => (ALLOWED.has(ctx.request.method) ? CONTINUE : respond(405, 'method_not_allowed', { error: 'method_not_allowed' }, { allow: ALLOW })),
});
