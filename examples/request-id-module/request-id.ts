/**
 * An example pipeline module: gives every request an id (kept when the client sent a sane one),
 * passes it to the origin and returns it to the client. It runs in two phases and shows the
 * contract: a cheap filter, config built once, changes only where the phase allows them.
 */

import { randomUUID } from 'node:crypto';
import { defineModule } from '../../src/pipeline/module.js';

interface Config {
  header: string;
}

export const requestId = defineModule<Config>({
  name: 'request-id',
  failure: 'open',
  // Built once, when config loads. Returning undefined would turn the module off.
  configure: () => ({ header: 'x-request-id' }),
  upstreamRequest(ctx, c) {
    const given = ctx.request.header(c.header);
    const id = given && /^[\x21-\x7e]{1,200}$/.test(given) ? given : randomUUID();
    ctx.vars['request-id'] = id;
    ctx.upstreamHeaders.set(c.header, id);
  },
  response(ctx, c) {
    const id = ctx.vars['request-id'];
    if (typeof id === 'string') ctx.responseHeaders.set(c.header, id);
  },
});
