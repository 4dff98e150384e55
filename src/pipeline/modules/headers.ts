/**
 * Header rules: set, add and remove on the request to the origin (upstream_request) and on
 * every response, local replies included (response). docs/products.md, steps 6 and 8.
 */
import type { HeaderRule } from '../../products/products-config.js';
import type { HeaderMap } from '../header-map.js';
import { defineModule } from '../module.js';

function apply(rules: readonly HeaderRule[], h: HeaderMap): void {
  for (const r of rules) {
    if (r.op === 'set') h.set(r.name, r.value);
    else if (r.op === 'add') h.add(r.name, r.value);
    else h.remove(r.name);
  }
}

export const headers = defineModule<{ request: readonly HeaderRule[]; response: readonly HeaderRule[] }>({
  name: 'headers',
  failure: 'open',
  configure: (p) => (p.requestHeaders.length || p.responseHeaders.length ? { request: p.requestHeaders, response: p.responseHeaders } : undefined),
  upstreamRequest: (ctx, c) => apply(c.request, ctx.upstreamHeaders),
  response: (ctx, c) => apply(c.response, ctx.responseHeaders),
});
