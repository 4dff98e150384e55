/**
 * CORS: answers preflights at the edge (204, or 403 for other origins) and adds the
 * Access-Control-* headers to responses for allowed origins (docs/products.md, step 4).
 */
import type { Cors } from '../../products/products-config.js';
import { CONTINUE, defineModule, respond } from '../module.js';

const NAME = 'cors';

function allowed(c: Cors, origin: string): boolean {
  return c.origins.includes('*') || c.origins.includes(origin);
}

export const cors = defineModule<Cors>({
  name: NAME,
  failure: 'open',
  configure: (p) => p.cors,
  filter: (r) => r.header('origin') !== undefined,
  request(ctx, c) {
    const r = ctx.request;
    if (r.method !== 'OPTIONS' || r.header('access-control-request-method') === undefined) return CONTINUE;
    const origin = r.header('origin')!;
    if (!allowed(c, origin)) return respond(403, 'cors_origin_not_allowed', { error: 'cors_origin_not_allowed' });
    const headers: Record<string, string> = {
      'access-control-allow-origin': origin,
      'access-control-allow-methods': c.methods.join(', '),
      'access-control-max-age': String(c.maxAge),
      vary: 'Origin',
    };
    if (c.headers.length) headers['access-control-allow-headers'] = c.headers.join(', ');
    if (c.credentials) headers['access-control-allow-credentials'] = 'true';
    return respond(204, 'cors_preflight', undefined, headers);
  },
  response(ctx, c) {
    if (ctx.answeredBy === NAME) return;
    const origin = ctx.request.header('origin')!;
    if (!allowed(c, origin)) return;
    const h = ctx.responseHeaders;
    h.set('access-control-allow-origin', origin);
    if (c.credentials) h.set('access-control-allow-credentials', 'true');
    if (c.exposeHeaders.length) h.set('access-control-expose-headers', c.exposeHeaders.join(', '));
    const vary = h.get('vary');
    h.set('vary', vary ? `${vary}, Origin` : 'Origin');
  },
});
